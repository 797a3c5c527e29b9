"""Issue 7, speed, on the one-by-one path (undated claims, CSV claims, replacements): an
import run reads each user's grants once (``billing_ops.access.grants_cache``, as a web
request does), and ``claim_create`` asks no existence or uniqueness query the importer
already answered; every value rule still holds."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_ops.access import grants_cache, grants_for
from claims.choices import ImportStatus
from claims.imports import services as imports
from claims.models import Claim
from claims.services import claim_create
from tests.claims.test_bulk_import import maple, x12_837p  # noqa: F401  (the fixture)

PERMISSION_TABLE = '"practices_practiceuserpermission"'
pytestmark = pytest.mark.usefixtures("maple")


def undated_837p(claims: int, first: int) -> bytes:
    """The bulk test's 837P without any DTP*472: every claim goes one by one (undated)."""
    text = x12_837p(claims, first=first).decode()
    text = text.replace("DTP*472*D8*20260105~\n", "")
    segments = text.split("~\n")
    start = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    end = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[end] = re.sub(r"^SE\*\d+", f"SE*{end - start + 1}", segments[end])
    return "~\n".join(segments).encode()


def run_counted(world: Any, content: bytes) -> tuple[Any, list[str]]:
    job = imports.import_file(
        actor=world.mia, practice=world.maple, content=content, filename="u.837", enqueue=False
    )
    with CaptureQueriesContext(connection) as captured:
        done = imports.run_import_job(job.pk)
    assert done is not None and done.status == ImportStatus.DONE, done and done.errors
    return done, [q["sql"] for q in captured.captured_queries]


def test_permission_reads_do_not_grow_with_the_claims_of_an_import(world):
    few, few_sql = run_counted(world, undated_837p(2, first=1))
    many, many_sql = run_counted(world, undated_837p(8, first=101))
    assert (few.created_count, many.created_count) == (2, 8)
    assert Claim.objects.filter(practice=world.maple, service_date_from__isnull=True).count() == 10
    reads = [sum(PERMISSION_TABLE in sql for sql in sqls) for sqls in (few_sql, many_sql)]
    assert reads[0] == reads[1] and reads[1] <= 2, reads  # was 4 a claim
    # No existence query for the claim's provider, no uniqueness query on the claims: the
    # importer holds the provider and matched the file against the claims on file.
    asked = [sql for sql in many_sql if 'AS "a"' in sql]
    assert not [sql for sql in asked if 'FROM "practices_provider"' in sql]
    assert not [sql for sql in asked if 'FROM "claims_claim"' in sql]
    # What is left (the new patient's and coverage's own checks): fewer than the 13 a
    # claim asked before.
    few_asked = [sql for sql in few_sql if 'AS "a"' in sql]
    assert (len(asked) - len(few_asked)) / 6 < 13


def test_grants_cache_reads_once_and_closes(world):
    with CaptureQueriesContext(connection) as outside:
        grants_for(world.bill)
        grants_for(world.bill)
    with grants_cache(), CaptureQueriesContext(connection) as inside:
        grants_for(world.bill)
        with grants_cache():  # nested: the open cache
            grants_for(world.bill)
    assert (len(outside), len(inside)) == (2, 1)
    with CaptureQueriesContext(connection) as after:
        grants_for(world.bill)
    assert len(after) == 1  # closed again: outside a request every call reads


def test_claim_create_still_refuses_a_duplicate_number_unless_told(world, make_claim):
    claim = make_claim(pms_claim_number="DUP-1")
    kwargs = {
        "actor": world.bill,
        "patient": claim.patient,
        "coverage": claim.coverage,
        "provider": claim.provider,
        "pms_claim_number": "DUP-1",
        "service_date_from": claim.service_date_from,
        "lines": [{"procedure_code": "D1110", "charge": Decimal("95.00")}],
        "owner": world.bill,
        "next_action_due": claim.next_action_due,
    }
    with pytest.raises(ValidationError, match="already exists"):
        claim_create(**kwargs)
    # A value rule still holds without the uniqueness check.
    with pytest.raises(ValidationError) as refused:
        claim_create(**{**kwargs, "pms_claim_number": "X" * 41, "check_unique": False})
    assert "pms_claim_number" in refused.value.message_dict
