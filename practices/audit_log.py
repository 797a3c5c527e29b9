"""The practice audit trail: who viewed or changed what, newest first, one query a page.

Two kinds of evidence, both append-only (``billing_ops.append_only``): the PHI access log
(reads, ``practices.phi_log``) and change records: simple-history rows and timelines.
Apps above this one register their change records as ``ChangeSource``s in their
``AppConfig.ready`` (claims: claim history and the claim timeline); patients and
coverages are registered here. ``audit_page`` reads every source as one UNION, each part
already narrowed to the practice, the filters and the keyset cursor, so a page costs one
query however deep it is and however many sources there are.

Rows carry ids and usernames only, never a patient's name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    F,
    IntegerField,
    JSONField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from practices.choices import AccessAction
from practices.models import Coverage, Patient, PhiAccessLog

HISTORY_KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
READS = "read"  # the PHI access log's source key
READS_RANK = 0


@dataclass(frozen=True)
class ChangeSource:
    """One table of change records, described by field paths on its rows."""

    key: str  # "claim-history": stable, it orders ties (cursor) and names the source
    label: str  # "Claim": what the record is
    rows: Callable[[], QuerySet[Any]]  # e.g. ``lambda: Claim.history.all()``
    at: str  # when: "history_date"
    user: str  # who, a FK to the user: "history_user"
    patient: str  # the patient's id: "patient_id", "claim__patient_id"
    practice: str  # the practice's id: "practice_id", "claim__practice_id"
    object_id: str  # the record's id: "id", "claim_id"
    kind: str  # what happened: "history_type", "kind"
    kind_labels: Mapping[str, str] = field(default_factory=lambda: HISTORY_KINDS)
    url_name: str = ""  # the record's page (takes ``pk``), if it has one


_sources: dict[str, ChangeSource] = {}


def register_change_source(source: ChangeSource) -> None:
    """Add a table of change records to the audit trail (from ``AppConfig.ready``; the
    same key again replaces it)."""
    if source.key == READS:
        raise ValueError(f"The audit source key {READS!r} belongs to the PHI access log.")
    _sources[source.key] = source


def change_sources() -> list[ChangeSource]:
    """Registered sources, by key: their rank (1, 2, ...) orders entries of the same instant."""
    return [_sources[key] for key in sorted(_sources)]


register_change_source(
    ChangeSource(
        key="patient-history",
        label="Patient",
        rows=lambda: Patient.history.all(),
        at="history_date",
        user="history_user",
        patient="id",
        practice="practice_id",
        object_id="id",
        kind="history_type",
        url_name="patient-detail",
    )
)
register_change_source(
    ChangeSource(
        key="coverage-history",
        label="Coverage",
        rows=lambda: Coverage.history.all(),
        at="history_date",
        user="history_user",
        patient="patient_id",
        practice="practice_id",
        object_id="id",
        kind="history_type",
    )
)


@dataclass(frozen=True)
class Cursor:
    """The last entry of a page: time, source rank and row id (unique together)."""

    at: dt.datetime
    rank: int
    pk: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.rank}~{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """Parse ``encode``'s text; ValueError when it is not one."""
        parts = raw.split("~")
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            raise ValueError("Not a cursor.")
        at = dt.datetime.fromisoformat(parts[0])
        if at.tzinfo is None or int(parts[2]) > 2**63 - 1 or int(parts[1]) > 1000:
            raise ValueError("Not a cursor.")
        return cls(at, int(parts[1]), int(parts[2]))


@dataclass(frozen=True)
class AuditFilter:
    """What the manager narrowed the trail to; ``practice_id`` always."""

    practice_id: int
    username: str = ""
    patient_id: int | None = None
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None  # exclusive


@dataclass(frozen=True)
class Entry:
    """One line of the trail."""

    at: dt.datetime
    rank: int
    pk: int
    user_id: int | None
    username: str
    kind: str  # the raw value: an access action, a history type, a timeline kind
    record: str  # the surface read ("claim page") or the changed record's id
    patient_ids: tuple[int, ...]
    path: str

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.rank, self.pk)

    @property
    def source(self) -> ChangeSource | None:
        """The change source (None for a PHI read)."""
        sources = change_sources()
        return sources[self.rank - 1] if 0 < self.rank <= len(sources) else None

    @property
    def is_read(self) -> bool:
        return self.rank == READS_RANK

    @property
    def kind_label(self) -> str:
        if self.is_read:
            return str(AccessAction(self.kind).label) if self.kind in AccessAction.values else ""
        source = self.source
        return source.kind_labels.get(self.kind, self.kind) if source else self.kind

    @property
    def what(self) -> str:
        if self.is_read:
            return self.record
        source = self.source
        return f"{source.label if source else '?'} {self.record}"

    @property
    def record_id(self) -> int | None:
        return None if self.is_read or not self.record.isdigit() else int(self.record)


def _mentions_patient(patient_id: int) -> Q:
    """PHI log rows naming the patient: the single-record FK or the list of ids."""
    if connection.vendor == "postgresql":
        listed = Q(patient_ids__contains=[patient_id])
    else:  # SQLite (make run): JSON containment by json_each
        listed = Q(
            RawSQL(
                f"EXISTS (SELECT 1 FROM json_each({PhiAccessLog._meta.db_table}.patient_ids) "
                "WHERE json_each.value = %s)",
                (patient_id,),
                output_field=BooleanField(),
            )
        )
    return Q(patient_id=patient_id) | listed


def _after(cursor: Cursor | None, rank: int, at: str) -> Q:
    """Rows of one source that come after ``cursor`` in (at, rank, pk) descending order."""
    if cursor is None:
        return Q()
    if rank > cursor.rank:
        return Q(**{f"{at}__lt": cursor.at})
    if rank < cursor.rank:
        return Q(**{f"{at}__lte": cursor.at})
    return Q(**{f"{at}__lt": cursor.at}) | Q(**{at: cursor.at, "pk__lt": cursor.pk})


def _window(wanted: AuditFilter, at: str) -> Q:
    condition = Q()
    if wanted.start is not None:
        condition &= Q(**{f"{at}__gte": wanted.start})
    if wanted.end is not None:
        condition &= Q(**{f"{at}__lt": wanted.end})
    return condition


def _columns(
    *, at: str, rank: int, user: str, kind: str, record: Any, patient: Any, ids: Any, path: Any
) -> dict[str, Any]:
    """The UNION's columns, the same names, order and types for every source."""
    return {
        "ev_at": F(at),  # no Cast: SQLite would cut it to milliseconds
        "ev_rank": Value(rank, output_field=IntegerField()),
        "ev_pk": Cast(F("pk"), IntegerField()),
        "ev_user_id": Cast(F(f"{user}_id"), IntegerField()),
        "ev_username": Cast(F(f"{user}__username"), CharField()),
        "ev_kind": Cast(F(kind), CharField()),
        "ev_record": record,
        "ev_patient": patient,
        "ev_ids": ids,
        "ev_path": path,
    }


COLUMNS = [
    "ev_at",
    "ev_rank",
    "ev_pk",
    "ev_user_id",
    "ev_username",
    "ev_kind",
    "ev_record",
    "ev_patient",
    "ev_ids",
    "ev_path",
]


def _reads(wanted: AuditFilter, cursor: Cursor | None) -> QuerySet[Any]:
    rows = PhiAccessLog.objects.filter(
        _window(wanted, "at"), _after(cursor, READS_RANK, "at"), practice_id=wanted.practice_id
    )
    if wanted.username:
        rows = rows.filter(user__username=wanted.username)
    if wanted.patient_id is not None:
        rows = rows.filter(_mentions_patient(wanted.patient_id))
    return rows.annotate(
        **_columns(
            at="at",
            rank=READS_RANK,
            user="user",
            kind="action",
            record=Cast(F("what"), CharField()),
            patient=Cast(F("patient_id"), IntegerField()),
            ids=F("patient_ids"),
            path=Cast(F("path"), CharField()),
        )
    )


def _changes(
    source: ChangeSource, rank: int, wanted: AuditFilter, cursor: Cursor | None
) -> QuerySet[Any]:
    rows = source.rows().filter(
        _window(wanted, source.at),
        _after(cursor, rank, source.at),
        **{source.practice: wanted.practice_id},
    )
    if wanted.username:
        rows = rows.filter(**{f"{source.user}__username": wanted.username})
    if wanted.patient_id is not None:
        rows = rows.filter(**{source.patient: wanted.patient_id})
    return rows.annotate(
        **_columns(
            at=source.at,
            rank=rank,
            user=source.user,
            kind=source.kind,
            record=Cast(F(source.object_id), CharField()),
            patient=Cast(F(source.patient), IntegerField()),
            ids=Cast(Value(None), JSONField()),
            path=Value("", output_field=CharField()),
        )
    )


def audit_page(wanted: AuditFilter, cursor: Cursor | None, size: int) -> list[Entry]:
    """Up to ``size`` + 1 entries after ``cursor`` (the extra one says there is more)."""
    limit = size + 1
    order = ("-ev_at", "-ev_rank", "-ev_pk")
    # PostgreSQL may order and cut each part first, so each reads at most ``limit`` rows.
    per_part = connection.features.supports_slicing_ordering_in_compound
    parts = [_reads(wanted, cursor)] + [
        _changes(source, rank, wanted, cursor)
        for rank, source in enumerate(change_sources(), start=READS_RANK + 1)
    ]
    shaped = [part.values_list(*COLUMNS).order_by() for part in parts]
    if per_part:
        shaped = [part.order_by(*order)[:limit] for part in shaped]
    combined = shaped[0].union(*shaped[1:], all=True).order_by(*order)[:limit]
    return [_entry(row) for row in combined]


def _entry(row: tuple[Any, ...]) -> Entry:
    at, rank, pk, user_id, username, kind, record, patient, ids, path = row
    if isinstance(ids, str):  # a JSON text where the backend does not decode it
        ids = json.loads(ids)
    listed = tuple(ids or ()) or ((patient,) if patient is not None else ())
    return Entry(
        at=at,
        rank=rank,
        pk=pk,
        user_id=user_id,
        username=username or "",
        kind=kind or "",
        record=record or "",
        patient_ids=listed,
        path=path or "",
    )
