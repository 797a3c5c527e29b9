"""Claims an 837 re-import can skip without reading them (issue 7, re-import speed).

When an import leaves a claim on file saying what the file says (created, replaced, or
found with the same content), ``record`` reads the claim's facts again and, only if the
comparison (``x12_compare.differences``) finds none, stores the claim's span digest
(``claims.x12.spans``), its version and a hash of the related facts the comparison reads
(patient name and date of birth, member id, provider NPI, payer id) from that same read,
in ``claims.ImportDigest``: a change made while the import ran, or a difference the full
path would report, is never hidden behind a digest. A later file's claim with the same
digest is skipped without being parsed or compared (``unchanged``) only while the
claim's version and those facts are what they were: a claim changed in the app since, or
a patient renamed, is compared the full way and every difference reported. A number that
appears twice in the file is always read (the file's duplicates are reported as before).

PostgreSQL only (a few queries by index each way, no join); elsewhere nothing is stored
and nothing skipped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from claims.imports.x12_compare import differences, on_file_facts
from claims.models import Claim, ImportDigest
from claims.x12.spans import Span
from practices.models import Coverage, Patient, Payer, Provider


def _related(claims: list[tuple[int, int, int, int, int, int]]) -> dict[int, str]:
    """claim id -> a hash of the related facts ``x12_compare.differences`` reads besides
    the claim's own columns (patient name and date of birth, member id, provider NPI,
    payer id), for rows (id, version, patient, coverage, provider, payer): one query per
    table by primary key, no join (a join of just-imported tables without statistics yet
    was planned as nested scans: 17-20 s for 10,000 claims in the bench)."""

    def read(model: Any, ids: set[int], *fields: str) -> dict[int, tuple[Any, ...]]:
        return {row[0]: row[1:] for row in _rows(model, "id", list(ids), ("id", *fields))}

    patients = read(Patient, {c[2] for c in claims}, "first_name", "last_name", "date_of_birth")
    coverages = read(Coverage, {c[3] for c in claims}, "member_id")
    providers = read(Provider, {c[4] for c in claims}, "npi")
    payers = read(Payer, {c[5] for c in claims}, "payer_id")
    return {
        pk: _hash((patients[patient], coverages[coverage], providers[provider], payers[payer]))
        for pk, _version, patient, coverage, provider, payer in claims
    }


def _hash(facts: tuple[tuple[Any, ...], ...]) -> str:
    return hashlib.md5(repr(facts).encode(), usedforsecurity=False).hexdigest()


def related_hash(facts: Any) -> str:
    """``_related``'s hash of one claim's facts as ``on_file_facts`` reads them."""
    patient = facts.patient
    return _hash(
        (
            (patient.first_name, patient.last_name, patient.date_of_birth),
            (facts.coverage.member_id,),
            (facts.provider.npi,),
            (facts.payer_id,),
        )
    )


def _rows(
    model: Any,
    column: str,
    values: list[Any],
    columns: Sequence[str],
    practice_id: int | None = None,
) -> list[Any]:
    """``columns`` of ``model``'s rows whose ``column`` is one of ``values`` (and of the
    practice): one ``= ANY(array)`` (one parameter, not an IN list of 10,000 compiled by
    the ORM)."""
    table, quote = model._meta.db_table, connection.ops.quote_name
    selected = ", ".join(quote(c) for c in columns)
    sql = f"SELECT {selected} FROM {quote(table)} WHERE {quote(column)} = ANY(%s)"
    params: list[Any] = [values]
    if practice_id is not None:
        sql += " AND practice_id = %s"
        params.append(practice_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


CHUNK = 2000  # numbers per read of the facts at record time (two queries each)
_CLAIM_COLUMNS = ("id", "version", "patient_id", "coverage_id", "provider_id", "payer_id")


def skippable(spans: Sequence[Span]) -> list[Span]:
    """The spans whose claim number the file names once."""
    counts = Counter(span.number for span in spans)
    return [span for span in spans if counts[span.number] == 1]


def unchanged(practice_id: int, spans: Sequence[Span]) -> list[Span]:
    """The spans (of numbers the file names once) whose claim is on file as this import
    last left it: same digest, same version, same related facts. Plain queries by index
    (digests, then those claims and their related rows by id), no join."""
    candidates = skippable(spans)
    if not candidates or connection.vendor != "postgresql":
        return []
    columns = ("practice_id", "claim_id", "digest", "version", "related")
    stored = {
        row[1]: row[2:]
        for row in _rows(
            ImportDigest, "digest", [s.digest for s in candidates], columns, practice_id
        )
    }
    if not stored:
        return []
    claims = [
        row[1:]
        for row in _rows(Claim, "id", list(stored), ("practice_id", *_CLAIM_COLUMNS), practice_id)
    ]
    related = _related(claims)
    known = {
        stored[pk][0] for pk, version, *_ in claims if (version, related[pk]) == stored[pk][1:]
    }
    return [span for span in candidates if span.digest in known]


def record(
    practice_id: int,
    rows: Sequence[tuple[str, str, str, Any]],
    held: Iterable[Any] = (),
) -> int:
    """Store (claim number, payer id, digest) for the practice's claims with that number
    and payer whose facts on file are what the file's claim (the row's last item, a
    ``ParsedClaim``) says: the facts are read again here, in chunks, and a claim changed
    since it was compared (a patient renamed, lines replaced by a concurrent import) or
    one the comparison would report (a member id differing in case) is not recorded. The
    version and related facts stored are those of that same read.

    ``held``: the facts of claims this import has just written (``x12_compare.
    held_facts``), taken as they are instead of read again: no other transaction can
    change a row this one wrote and has not committed. They go through the same key
    match and comparison as the facts read (the test holds the two to the same rows)."""
    if not rows or connection.vendor != "postgresql":
        return 0
    wanted = {(number, payer): (digest, parsed) for number, payer, digest, parsed in rows}
    ids: list[int] = []
    found: list[str] = []
    versions: list[int] = []
    related: list[str] = []

    def take(facts: Any, key: tuple[str, str]) -> None:
        row = wanted.get(key)
        if row is None or differences(facts, row[1]):
            return
        ids.append(facts.pk)
        found.append(row[0])
        versions.append(facts.version)
        related.append(related_hash(facts))

    # The held claims the read would find (their number is one the rows name), each
    # matched by its own key as a read one is; numbers whose every row is a held claim's
    # are not read (a claim read under such a number matches no row), and a held claim
    # read anyway is not taken twice.
    numbers = {number for number, _payer in wanted}
    held_ids: set[int] = set()
    covered: set[tuple[str, str]] = set()
    for facts in held:
        key = (facts.pms_claim_number, facts.payer_id.upper())
        if facts.pms_claim_number in numbers:
            held_ids.add(facts.pk)
            covered.add(key)
            take(facts, key)
    keys = sorted({number for number, payer in wanted if (number, payer) not in covered})
    for start in range(0, len(keys), CHUNK):
        for facts in on_file_facts(practice_id, keys[start : start + CHUNK]):
            if facts.pk not in held_ids:
                take(facts, (facts.pms_claim_number, facts.payer_id.upper()))
    if not ids:
        return 0
    table = ImportDigest._meta.db_table
    sql = (
        f"INSERT INTO {table} (claim_id, practice_id, digest, version, related, recorded_at) "
        "SELECT f.claim_id, %s, f.digest, f.version, f.related, %s "
        "FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::text[]) "
        "AS f(claim_id, digest, version, related) "
        "ON CONFLICT (claim_id) DO UPDATE SET digest = EXCLUDED.digest, "
        "version = EXCLUDED.version, related = EXCLUDED.related, "
        "recorded_at = EXCLUDED.recorded_at"
    )
    params = [practice_id, timezone.now(), ids, found, versions, related]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
