"""What one import run found and did: counts plus per-row (or per-segment) entries.

Entries are stored as they are in ``ImportJob.errors``::

    {"level": "error", "row": 7, "field": "charge", "message": "'abc' is not an amount"}
    {"level": "error", "segment": 14, "segment_id": "CLM", "message": "..."}
    {"level": "skipped", "row": 9, "claim": "C100", "message": "already submitted; not changed"}
    {"level": "note", "message": "created payer MEDICARE (10234)"}
    {"level": "conflict", "claim": "C100", "message": "differs from the claim on file: ..."}
    {"level": "warning", "message": "an 837P (professional) file for a dental practice"}
    {"level": "updated", "claim": "C100", "message": "...", "changes": {"member_id": [a, b]}}

Any entry of level "error" rejects the whole file (nothing is written). A "conflict" leaves
one claim on file unchanged for a person to resolve; the rest of the file is imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from billing_ops.access import Actor

ERROR, SKIPPED, NOTE = "error", "skipped", "note"
CONFLICT, WARNING, UPDATED = "conflict", "warning", "updated"
# Per level: enough to fix a file; a file with more problems mostly repeats one of them.
MAX_ENTRIES = 300
# Links on the result page to what was created or changed; past this many, a count.
MAX_RECORDS = 1000
# What a record points at (``Outcome.record``): the result page links each to its page.
CLAIM, PATIENT, COVERAGE, ESTIMATE, PAYER, PROVIDER = (
    "claim",
    "patient",
    "coverage",
    "estimate",
    "payer",
    "provider",
)


@dataclass
class Outcome:
    """Counts and entries of one run; ``created``/``updated`` are zeroed if it is rejected."""

    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    unchanged: int = 0  # already up to date: counted as skipped, summarised in one note
    conflicts: int = 0  # records on file the file contradicts, left for a person
    entries: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0
    # What the run created or changed: {"kind", "id", "label", "action"[, "patient"]}.
    records: list[dict[str, Any]] = field(default_factory=list)
    records_dropped: int = 0
    # Rows (or claims, or the file) with at least one error, counted even past MAX_ENTRIES.
    rejected_keys: set[tuple[Any, ...]] = field(default_factory=set)
    fatal: bool = False
    # Called with the number of units done so far (rows or claims), see services._Progress.
    progress: Callable[[int], None] = field(default=lambda done: None, repr=False)

    # Entries kept per level (``_add``): counted as they come, not by re-reading ``entries``.
    kept: Counter[str] = field(default_factory=Counter, repr=False)

    def _add(self, entry: dict[str, Any]) -> None:
        # Capped per level, so a flood of notes never hides an error.
        if self.kept[entry["level"]] < MAX_ENTRIES:
            self.kept[entry["level"]] += 1
            self.entries.append({k: v for k, v in entry.items() if v not in (None, "")})
        else:
            self.dropped += 1

    def error(
        self,
        message: str,
        *,
        row: int | None = None,
        field: str = "",
        fatal: bool = False,
        **where: Any,
    ) -> None:
        """A rejected row; ``fatal``: a file-level problem, no record is worth writing."""
        self.fatal = self.fatal or fatal
        self.rejected_keys.add((row, where.get("claim"), where.get("segment")))
        self._add({"level": ERROR, "row": row, "field": field, **where, "message": message})

    def skip(self, message: str, *, row: int | None = None, **where: Any) -> None:
        self.skipped += 1
        self._add({"level": SKIPPED, "row": row, **where, "message": message})

    def note(self, message: str, **where: Any) -> None:
        self._add({"level": NOTE, **where, "message": message})

    def conflict(self, message: str, **where: Any) -> None:
        """A record on file that the file contradicts: left unchanged, counted, listed."""
        self.conflicts += 1
        self._add({"level": CONFLICT, **where, "message": message})

    def warn(self, message: str, **where: Any) -> None:
        self._add({"level": WARNING, **where, "message": message})

    def changed(self, message: str, changes: dict[str, list[Any]], **where: Any) -> None:
        """A record on file that the import changed, with each field's [before, after]."""
        self.updated += 1
        self._add({"level": UPDATED, **where, "message": message, "changes": changes})

    def record(self, kind: str, pk: int, label: str, action: str = "created", **extra: Any) -> None:
        """Something the run created or changed (``extra``: e.g. the coverage's patient id)."""
        if len(self.records) < MAX_RECORDS:
            self.records.append({"kind": kind, "id": pk, "label": label, "action": action, **extra})
        else:
            self.records_dropped += 1

    @property
    def rejected(self) -> bool:
        return bool(self.rejected_keys)

    @property
    def rejected_count(self) -> int:
        """Rows (or claims) with at least one error; a file-level error counts as one."""
        return len(self.rejected_keys)

    def stored_entries(self) -> list[dict[str, Any]]:
        entries = list(self.entries)
        if self.dropped:
            entries.append({"level": NOTE, "message": f"{self.dropped} more message(s) not shown."})
        if self.records_dropped:
            entries.append(
                {
                    "level": NOTE,
                    "message": f"{self.records_dropped} more record(s) created or changed "
                    "(not linked here).",
                }
            )
        return entries


def describe(entry: dict[str, Any]) -> str:
    """One entry as a person reads it: "row 7, charge: 'abc' is not an amount"."""
    where = []
    if "row" in entry:
        where.append(f"row {entry['row']}")
    if "segment" in entry:
        where.append(f"segment {entry['segment']} ({entry.get('segment_id', '?')})")
    if "claim" in entry:
        where.append(f"claim {entry['claim']}")
    prefix = ", ".join(where)
    if entry.get("field"):
        prefix = f"{prefix}, {entry['field']}" if prefix else entry["field"]
    return f"{prefix}: {entry['message']}" if prefix else entry["message"]


@dataclass
class Context:
    """Who imports into which practice, and what they may change on the way."""

    actor: Actor
    practice: Any
    outcome: Outcome
    owner: Any = None  # owner of new claims (the importer unless a default owner is given)
    can_edit_patients: bool = False
