"""Handing a person's open work to somebody else when their access ends.

Work items live above this app (``work``, the domain apps), so practices cannot read them;
the work core registers here, in its ``AppConfig.ready``, how to count a person's open
items at a practice and how to reassign them all. The people services
(``practices.people_services``) ask before a revocation and hand over in the same
transaction, so nothing falls into the "Unassigned" queues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OpenWork:
    """What the work core answers: open items per type label, and the reassignment."""

    # (user, practice id) -> {"Claim": 12, "Chore": 3}; types without open items omitted.
    count: Callable[[Any, int], dict[str, int]]
    # (actor, from user, to user, practice id) -> items moved, one history row each.
    reassign: Callable[[Any, Any, Any, int], int]
    # (user, practice id) -> users who may take over every type the user has open there.
    candidates: Callable[[Any, int], list[Any]]
    # (user, successor or None, practice id, what ended) -> items moved: the system's
    # handover when access ends by date (successor, else the billing functions' owners,
    # and the managers are told).
    at_end: Callable[[Any, Any, int, str], int] | None = None


_providers: list[OpenWork] = []


def register(provider: OpenWork) -> None:
    """Called once by the work core at start-up."""
    if provider not in _providers:
        _providers.append(provider)


def open_work(user: Any, practice_id: int) -> dict[str, int]:
    """The user's open items at a practice, per item type label."""
    counts: dict[str, int] = {}
    for provider in _providers:
        for label, count in provider.count(user, practice_id).items():
            counts[label] = counts.get(label, 0) + count
    return counts


def hand_over(*, actor: Any, from_user: Any, to_user: Any, practice_id: int) -> int:
    """Reassign every open item of ``from_user`` at a practice to ``to_user``."""
    return sum(p.reassign(actor, from_user, to_user, practice_id) for p in _providers)


def hand_over_at_end(*, from_user: Any, successor: Any, practice_id: int, ended: str) -> int:
    """When access ends by date (the 15-minute job): every open item of ``from_user`` at a
    practice to ``successor`` if named and able, else to the owners of the billing
    functions, telling the managers (``ended`` says what ended, without PHI)."""
    return sum(p.at_end(from_user, successor, practice_id, ended) for p in _providers if p.at_end)


def successor_candidates(user: Any, practice_id: int) -> list[Any]:
    """Users (other than ``user``) who could take all of ``user``'s open work over at a
    practice: they may work every item type it includes."""
    found: dict[int, Any] | None = None
    for provider in _providers:
        theirs = {u.pk: u for u in provider.candidates(user, practice_id) if u.pk != user.pk}
        found = theirs if found is None else {pk: found[pk] for pk in found if pk in theirs}
    return sorted((found or {}).values(), key=lambda u: u.get_username())
