"""Proposed payer rules from apps above claims, for the payer house rule library.

The denial loop (``denials.loop``) proposes a scrubber payer rule when a payer x CARC x
procedure pattern keeps repeating; the library (``sops``) shows those proposals as
unconfirmed rules a manager confirms or dismisses. Neither app may import the other, so
the app that owns the proposals registers a ``ProposalSource`` here (in its
``AppConfig.ready``) and the library reads every source. The proposals stay where they are
(one row each, in their own app); the source decides them through its own services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claims.models import PayerRule


@dataclass(frozen=True)
class Proposal:
    """One proposed rule, as the library shows it."""

    source: str  # the registering source's key
    pk: int
    practice_id: int
    payer_id: int
    payer_name: str
    procedure_code: str
    why: str  # "Denied 3 times with CARC 252 (...) between 09/02 and 11/28"
    occurrences: int
    first_seen: dt.date
    last_seen: dt.date


@dataclass(frozen=True)
class ProposalSource:
    """Where proposals come from and how they are decided.

    ``pending(practice_id)``: the practice's undecided proposals. ``confirm(actor=,
    practice_id=, pk=, required_attachment=, required_modifier=, description=)`` makes the
    structured ``PayerRule`` the scrubber applies and returns it; ``dismiss(actor=,
    practice_id=, pk=)`` drops the proposal for good (the pattern is not proposed again).
    Both raise ``LookupError`` for a proposal that is not the practice's, and the
    services' own ``PermissionDenied``/``ValidationError``.
    """

    key: str
    pending: Callable[[int], list[Proposal]]
    confirm: Callable[..., PayerRule]
    dismiss: Callable[..., Any]


_sources: dict[str, ProposalSource] = {}


def register_source(source: ProposalSource) -> None:
    """Add (or replace, by key) a source of proposals; from an ``AppConfig.ready``."""
    _sources[source.key] = source


def source(key: str) -> ProposalSource:
    """The registered source by key (``KeyError`` for an unknown one)."""
    return _sources[key]


def pending(practice_id: int) -> list[Proposal]:
    """Every source's undecided proposals of one practice, most recent pattern first."""
    found = [p for s in _sources.values() for p in s.pending(practice_id)]
    return sorted(found, key=lambda p: (p.last_seen, p.source, p.pk), reverse=True)
