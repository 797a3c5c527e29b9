"""Who holds a billing function at a practice, asked by item types that pick owners.

Billing functions live in ``sops``, beside the item types that need their holders
(``denials`` picks a new denial's owner from the denial follow-up function). Those apps
may not import each other, so ``sops`` answers through this hook, registered in its
``AppConfig.ready``; without it the answer is "nobody".
"""

from __future__ import annotations

from collections.abc import Callable

# (practice id, billing function kind) -> user ids in the order to try (owner, backup).
HolderLookup = Callable[[int, str], list[int]]

_lookup: HolderLookup | None = None


def register_holder_lookup(lookup: HolderLookup) -> None:
    """Install the one answer (``sops`` does, at start-up)."""
    global _lookup
    _lookup = lookup


def function_holders(practice_id: int, kind: str) -> list[int]:
    """The owner, then the backup, of a practice's billing function (ids; may be empty)."""
    return _lookup(practice_id, kind) if _lookup is not None else []
