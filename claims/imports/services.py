"""Getting claims in: store an uploaded file as an ImportJob, then run it (in Celery).

``import_file`` checks the file (size, text, kind) and the importer's permission, saves
the job and queues ``run_import`` once the job is committed. ``run_import_job`` reads and
validates the whole file, then writes every good record through the services in ONE
transaction, rolled back for a preview (dry run) or when any row was rejected: a file is
imported all or nothing. A job that already ran is never run again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from billing_ops.access import grants_cache, has_perm
from claims.choices import ImportKind, ImportStatus
from claims.imports import csv_import, x12_bulk, x12_import
from claims.imports.results import Context, Outcome
from claims.models import ImportJob
from claims.x12 import detect_x12
from practices import permissions as perms
from practices.models import Practice
from practices.services import require_practice_perm

if TYPE_CHECKING:
    from billing_ops.access import Actor

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PROGRESS_EVERY = 20  # rows (or claims) between two progress writes
STALE_AFTER = dt.timedelta(minutes=30)  # a RUNNING job this old lost its worker
CSV_KINDS = frozenset({ImportKind.CSV_PATIENTS, ImportKind.CSV_APPOINTMENTS, ImportKind.CSV_CLAIMS})
PATIENT_KINDS = frozenset({ImportKind.CSV_PATIENTS, ImportKind.CSV_APPOINTMENTS})


def decode_upload(content: bytes) -> str:
    """The file as text, or a ValidationError saying plainly what is wrong with it."""
    if len(content) > MAX_UPLOAD_BYTES:
        size = len(content) / (1024 * 1024)
        raise ValidationError(
            {"file": f"The file is {size:.1f} MB; the limit is 10 MB. Split it into parts."}
        )
    if not content.strip():
        raise ValidationError({"file": "The file is empty."})
    if b"\x00" in content:
        raise ValidationError(
            {
                "file": "This is not a text file (it contains NUL bytes), e.g. an Excel "
                "workbook. Export it as “CSV UTF-8”, or upload the X12 837 text file."
            }
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": f"The file is not UTF-8 text (byte 0x{content[exc.start]:02x} at "
                f"position {exc.start}). Save it as “CSV UTF-8” and upload it again."
            }
        ) from None


def clean_mapping(mapping: Any) -> dict[str, str]:
    """A column mapping {our_field: their_header}; blank entries are dropped."""
    if mapping in (None, ""):
        return {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ValidationError(
            {"column_mapping": "Give the mapping as {our_field: their column header}."}
        )
    return {k.strip(): v.strip() for k, v in mapping.items() if k.strip() and v.strip()}


def detect_kind(text: str, mapping: dict[str, str]) -> str:
    """X12 when the content starts with ISA, else the CSV kind its header row describes."""
    if detect_x12(text):
        return ImportKind.X12_837
    kind = csv_import.detect_kind(text, mapping)
    if kind is None:
        raise ValidationError(
            {
                "kind": "Could not tell what this file holds from its header row: choose the "
                "kind, or name the columns as in the import templates."
            }
        )
    return kind


@transaction.atomic
def import_file(
    *,
    actor: Actor,
    practice: Practice,
    content: bytes,
    filename: str,
    kind: str | None = None,
    dry_run: bool = False,
    column_mapping: dict[str, str] | None = None,
    default_owner: Any = None,
    enqueue: bool = True,
) -> ImportJob:
    """Store a PMS export as an import job and queue it (``enqueue=False``: the caller runs it)."""
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    text = decode_upload(content)
    mapping = clean_mapping(column_mapping)
    kind = kind or detect_kind(text, mapping)
    if kind not in ImportKind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    if kind == ImportKind.X12_837 and not detect_x12(text):
        raise ValidationError({"kind": "This is not an X12 file: it does not start with ISA."})
    if kind in CSV_KINDS and detect_x12(text):
        raise ValidationError({"kind": "This is an X12 file, not a CSV file."})
    if kind in PATIENT_KINDS:
        require_practice_perm(actor, perms.EDIT_PATIENTS, practice)
    job = ImportJob(
        practice=practice,
        created_by=actor,
        kind=kind,
        filename=(filename or "upload")[-255:],
        column_mapping=mapping,
        dry_run=dry_run,
    )
    job.file.save(
        (filename or "upload").rsplit("/", 1)[-1][-100:], ContentFile(content), save=False
    )
    job.save()
    if enqueue:
        from claims.imports.tasks import run_import

        owner_id = getattr(default_owner, "pk", None)
        run_import.delay_on_commit(job.pk, default_owner_id=owner_id)
    return job


class _Progress:
    """Writes ``processed`` while the import's own transaction is still open.

    The import's writes are one transaction, so a progress row written inside it would stay
    invisible to the page until the end. On PostgreSQL a second connection (autocommit)
    writes it instead; SQLite holds one write lock per database, so there the page sees
    the progress only when the job ends.
    """

    def __init__(self, job_id: int, every: int = PROGRESS_EVERY) -> None:
        self.job_id = job_id
        self.every = every
        self.side: Any = None

    def __enter__(self) -> _Progress:
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.side = connections[DEFAULT_DB_ALIAS].copy()
        return self

    def __call__(self, done: int) -> None:
        if self.side is None or done % self.every:
            return
        table = self.side.ops.quote_name(ImportJob._meta.db_table)
        with self.side.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET processed = %s WHERE id = %s", [done, self.job_id])

    def __exit__(self, *exc: object) -> None:
        if self.side is not None:
            self.side.close()


def _claim(job_id: int) -> bool:
    """Mark the job running if nobody runs it (or its worker died); whether we may run it."""
    now = timezone.now()
    runnable = Q(status=ImportStatus.PENDING) | Q(
        status=ImportStatus.RUNNING, started_at__lt=now - STALE_AFTER
    )
    claimed = ImportJob.objects.filter(runnable, pk=job_id).update(
        status=ImportStatus.RUNNING, started_at=now, processed=0
    )
    return bool(claimed)


def _context(job: ImportJob, outcome: Outcome, default_owner_id: int | None) -> Context:
    actor = job.created_by
    owner = None
    if default_owner_id is not None:
        owner = get_user_model().objects.filter(pk=default_owner_id, is_active=True).first()
    can_edit = (
        actor is None or actor.is_superuser or has_perm(actor, perms.EDIT_PATIENTS, job.practice_id)
    )
    return Context(
        actor=actor,
        practice=job.practice,
        outcome=outcome,
        owner=owner or actor,
        can_edit_patients=can_edit,
    )


def _importer(job: ImportJob, ctx: Context) -> Any:
    with job.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    if job.kind == ImportKind.X12_837:
        return x12_import.importer_for(ctx, text)
    return csv_import.importer_for(job.kind, ctx, text, job.column_mapping or {})


def _run(job: ImportJob, ctx: Context) -> None:
    outcome = ctx.outcome
    importer = _importer(job, ctx)
    outcome.total = importer.total
    ImportJob.objects.filter(pk=job.pk).update(total=outcome.total)
    with _Progress(job.pk) as progress:
        outcome.progress = progress
        # The writes of the whole file: kept only if every row passed and it is no preview.
        with transaction.atomic():
            if not outcome.fatal:
                if isinstance(importer, x12_import.X12Import):
                    importer.record_digests = not job.dry_run  # a preview is rolled back
                    x12_bulk.apply(importer)  # new claims in chunks, the rest one by one
                else:
                    importer.apply()
            if outcome.rejected or job.dry_run:
                transaction.set_rollback(True)


def run_import_job(job_id: int, *, default_owner_id: int | None = None) -> ImportJob | None:
    """Run one import job; a job that is done, failed or running elsewhere is left alone."""
    if not _claim(job_id):
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("practice", "created_by").get(pk=job_id)
    # Each permission check of the run (the importer's, the owner's, per claim on the
    # one-by-one path) reads a user's grants once, as within a web request.
    with grants_cache():
        return _run_claimed(job, default_owner_id)


def _run_claimed(job: ImportJob, default_owner_id: int | None) -> ImportJob:
    outcome = Outcome()
    ctx = _context(job, outcome, default_owner_id)
    try:
        _run(job, ctx)
    except OperationalError:
        # The database went away: hand the job back so the task's retry can run it.
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, started_at=None)
        raise
    except Exception:
        logger.exception("import job %s stopped", job.pk)
        outcome.error("The import stopped on an unexpected error; nothing was written.", fatal=True)
    return _finish(job, ctx)


def _finish(job: ImportJob, ctx: Context) -> ImportJob:
    outcome = ctx.outcome
    rejected = outcome.rejected
    if outcome.unchanged and not rejected:
        outcome.note(f"{outcome.unchanged} record(s) already up to date (counted as skipped)")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED if rejected else ImportStatus.DONE,
        total=outcome.total,
        processed=outcome.total,
        # Nothing of a rejected file was written, whatever its good rows would have done.
        created_count=0 if rejected else outcome.created,
        updated_count=0 if rejected else outcome.updated,
        skipped_count=0 if rejected else outcome.skipped + outcome.unchanged,
        rejected_count=outcome.rejected_count,
        conflict_count=outcome.conflicts,
        errors=outcome.stored_entries(),
        records=[] if rejected else outcome.records,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
