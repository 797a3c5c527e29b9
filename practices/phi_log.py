"""PHI reads, logged where they happen: one audit row per request naming the patients shown.

Every page, API answer, download and admin view that shows patient data calls
``record_read`` once, after the access check passed and with the rows it is about to show:
the patient list and search, the patient and claim pages, the claims API, the queue pages
and My day, exports, the admin. It writes one ``PhiAccessLog`` row per practice of those
rows (almost always one) naming the patients by id, in a single INSERT; a response that
shows no patient writes nothing, and a request refused before (404/403) never gets here.

Rows are read by duck type, so the work core and the apps above need no adapter: a
``Patient`` names itself; anything else with ``practice_id`` and ``patient_id`` (a claim, a
coverage, a work item of any registered type that has a patient) names its patient; a row
without them names the patient of a related row loaded with it (a denial's claim, by
``select_related``); rows without a patient (a test-only chore) name nobody. Only ids are
stored: never a name, a search term or a query string (the path is ``request.path``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.models import AutoField
from django.db.models.sql import InsertQuery
from django.http import HttpRequest, HttpResponse

from billing_ops.access import acting_user
from practices.choices import AccessAction
from practices.models import Patient, PhiAccessLog

WHAT_MAX = PhiAccessLog._meta.get_field("what").max_length or 80
PATH_MAX = PhiAccessLog._meta.get_field("path").max_length or 300


class PatientRef(NamedTuple):
    """A patient named by ids alone, for reads that hold no patient rows (an export)."""

    practice_id: int
    patient_id: int


def patient_refs(rows: Iterable[Any]) -> dict[int, list[int]]:
    """practice id -> ids of the patients ``rows`` show, in order, each once."""
    found: dict[int, list[int]] = {}
    seen: set[tuple[int, int]] = set()
    for row in rows:
        if isinstance(row, Patient):
            practice_id, patient_id = row.practice_id, row.pk
        else:
            practice_id, patient_id = _ids_of(row)
        if practice_id is None or patient_id is None or (practice_id, patient_id) in seen:
            continue
        seen.add((practice_id, patient_id))
        found.setdefault(practice_id, []).append(patient_id)
    return found


def _ids_of(row: Any) -> tuple[int | None, int | None]:
    """(practice id, patient id) of a row, or of a related row already loaded with it (a
    denial's claim by ``select_related``): never a query."""
    practice_id = getattr(row, "practice_id", None)
    patient_id = getattr(row, "patient_id", None)
    if patient_id is None:
        cached = getattr(getattr(row, "_state", None), "fields_cache", {})
        for related in cached.values():
            patient_id = getattr(related, "patient_id", None)
            if patient_id is not None:
                practice_id = practice_id or getattr(related, "practice_id", None)
                break
    return practice_id, patient_id


def record_read(
    request: HttpRequest,
    rows: Iterable[Any],
    *,
    what: str,
    action: str = AccessAction.VIEW,
    plain: bool = False,
) -> int:
    """Log that ``request``'s user was shown the patients of ``rows`` (one INSERT at most).

    ``what`` names the surface ("claim page", "queue my-day"); it must not carry PHI.
    Answers the number of patients logged. One row (one practice, the common case) is
    written by SQL compiled once; ``plain``: through ``bulk_create`` (the tests' reference).
    """
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access action {action!r}")
    user = acting_user(request)
    entries = [
        PhiAccessLog(
            user=user,
            practice_id=practice_id,
            patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
            patient_ids=patient_ids,
            what=what[:WHAT_MAX],
            action=action,
            path=request.path[:PATH_MAX],
        )
        for practice_id, patient_ids in patient_refs(rows).items()
    ]
    if len(entries) == 1 and not plain:
        _insert_one(entries[0])
    elif entries:
        PhiAccessLog.objects.bulk_create(entries)
    return sum(len(entry.patient_ids) for entry in entries)


class _Insert(NamedTuple):
    sql: str
    fields: list[Any]
    ok: bool


# The one-row INSERT, its SQL compiled once per database alias (issue 10, speed): the
# ORM's bulk_create compiled it, with RETURNING the new id nobody reads, on every page
# that shows a patient (~0.4 ms of CPU of a queue page at dataset L).
_inserts: dict[str, _Insert] = {}


def _insert_statement(alias: str, entry: PhiAccessLog) -> _Insert:
    """The columns bulk_create writes for a row without an id, and the SQL the ORM
    compiles for one such row (without RETURNING); ``ok`` only when each column is one
    plain ``%s`` with the value ``get_db_prep_save`` gives (no placeholder SQL, no database
    default, no expression), so the row's values can be passed as they are."""
    opts = PhiAccessLog._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
    query = InsertQuery(PhiAccessLog)
    query.insert_values(fields, [entry])
    compiler = query.get_compiler(using=alias)
    [(sql, params)] = compiler.as_sql()
    ours = _row_params(fields, entry, connections[alias])
    ok = (
        len(params) == len(ours) == sql.count("%s")
        and all(type(a) is type(b) for a, b in zip(params, ours, strict=True))
        and not any(f.has_db_default() or hasattr(f, "get_placeholder_sql") for f in fields)
    )
    return _Insert(sql, fields, ok)


def _row_params(fields: list[Any], entry: PhiAccessLog, connection: Any) -> list[Any]:
    """The row's values as ``SQLInsertCompiler`` prepares them (``pre_save`` fills ``at``)."""
    return [f.get_db_prep_save(f.pre_save(entry, True), connection=connection) for f in fields]


def _insert_one(entry: PhiAccessLog) -> None:
    """``bulk_create([entry])`` by SQL compiled once (the same columns and values)."""
    alias = router.db_for_write(PhiAccessLog)
    statement = _inserts.get(alias)
    if statement is None:
        statement = _inserts[alias] = _insert_statement(alias, entry)
    if not statement.ok:
        PhiAccessLog.objects.using(alias).bulk_create([entry])
        return
    connection = connections[alias]
    params = _row_params(statement.fields, entry, connection)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)


class PhiReadAdminMixin:
    """For ModelAdmins of PHI models: the change list logs the page of rows it shows, the
    change (read-only) and history views the one record. The admin is for staff and
    superusers and is not practice-scoped, so its reads need the log all the more."""

    phi_what = "admin"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response: HttpResponse = super().changelist_view(  # type: ignore[misc]
            request, extra_context
        )
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # The page's own (sliced) queryset: evaluated here, reused by the template.
            record_read(request, changelist.result_list, what=f"{self.phi_what} list")
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response: HttpResponse = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        original = getattr(response, "context_data", {}).get("original")
        if original is not None:
            record_read(request, [original], what=f"{self.phi_what} record")
        return response

    def render_history_view(
        self, request: HttpRequest, template: str, context: dict[str, Any], **kwargs: Any
    ) -> HttpResponse:
        # simple_history renders the history page here, with the record as "object".
        shown = context.get("object")
        if shown is not None:
            record_read(request, [shown], what=f"{self.phi_what} history")
        response: HttpResponse = super().render_history_view(  # type: ignore[misc]
            request, template, context, **kwargs
        )
        return response


class PhiReadViewSetMixin:
    """For API viewsets over PHI: ``list`` logs the page it answers, the actions in
    ``phi_object_actions`` log their object (after the scoped lookup: a 404 logs nothing).
    Put it first among the bases."""

    phi_what = "API"
    phi_object_actions: frozenset[str] = frozenset({"retrieve"})
    request: Any
    action: str | None

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        if self.action == "list":
            shown = page if page is not None else queryset
            record_read(self.request, shown, what=f"{self.phi_what} list", action=AccessAction.API)
        return page

    def get_object(self) -> Any:
        found = super().get_object()  # type: ignore[misc]
        if self.action in self.phi_object_actions:
            what = f"{self.phi_what} {self.action}"
            record_read(self.request, [found], what=what, action=AccessAction.API)
        return found
