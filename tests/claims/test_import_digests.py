"""A re-import skips, unread, the claims on file as the last import left them (issue 7,
re-import <= 2 s): span digests (``claims.x12.spans``), stored per claim with its version
and related facts (``claims.imports.digests``). Anything changed on either side since is
compared the full way, and the skip path reports what the full path reports."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims import services as claim_services
from claims.choices import ImportStatus
from claims.imports import digests, x12_bulk, x12_compare, x12_import
from claims.imports import services as imports
from claims.imports.results import Context, Outcome
from claims.models import Claim, ClaimLine, ImportDigest
from claims.x12 import parse_837
from claims.x12.spans import claim_spans
from practices import services as practice_services
from practices.choices import ClaimFormat, CobOrder
from practices.models import Payer
from tests import factories
from tests.claims.test_bulk_import import NPI, x12_837p


@pytest.fixture
def acme(world: Any) -> Any:
    factories.PayerFactory(
        practice=world.maple,
        payer_id="60054",
        name="ACME HEALTH",
        claim_format=ClaimFormat.PROFESSIONAL,
        timely_filing_days=90,
    )
    return factories.ProviderFactory(practice=world.maple, npi=NPI)


def run(world: Any, content: bytes) -> Any:
    job = imports.import_file(
        actor=world.mia, practice=world.maple, content=content, filename="b.837", enqueue=False
    )
    done = imports.run_import_job(job.pk)
    assert done is not None and done.status == ImportStatus.DONE, done and done.errors
    return done


def unread(world: Any, content: bytes) -> list[str]:
    """The claim numbers a re-import of ``content`` would skip without reading them."""
    return [s.number for s in digests.unchanged(world.maple.pk, claim_spans(content.decode()))]


def entries(job: Any) -> list[tuple[str, str, str]]:
    return sorted((e["level"], e.get("claim", ""), e["message"]) for e in job.errors)


# --- spans and the parser ------------------------------------------------------------------


def test_the_parser_drops_the_claims_it_is_told_to_and_reads_the_others_the_same() -> None:
    text = x12_837p(6).decode()
    spans = claim_spans(text)
    whole = parse_837(text).claims

    assert [s.number for s in spans] == [c.claim_number for c in whole]
    assert {s.payer_id for s in spans} == {"60054"}
    part = parse_837(text, drop=[(s.start, s.end) for s in spans[1::2]]).claims
    assert part == whole[0::2]
    assert parse_837(text, drop=[(s.start, s.end) for s in spans]).claims == ()


def test_a_claims_digest_covers_its_loops_and_nothing_else() -> None:
    base = claim_spans(x12_837p(3).decode())
    # The same claims among other claims: the same digests.
    assert [s.digest for s in claim_spans(x12_837p(5).decode())][:3] == [s.digest for s in base]
    changed = {
        "member id (subscriber loop)": ("M00000002", "M99999999"),
        "billing NPI (billing provider loop)": (f"XX*{NPI}~\nN3", "XX*1234567893~\nN3"),
        "line charge": ("SV1*HC:99213*95.00", "SV1*HC:99213*96.00"),
    }
    for what, (old, new) in changed.items():
        text = x12_837p(3).decode().replace(old, new)
        assert [s.digest for s in claim_spans(text)] != [s.digest for s in base], what
    assert claim_spans("not an 837") == []


def test_a_claims_digest_covers_the_component_separator() -> None:
    # ISA16 ':' -> '>' and every composite (SV1*HC:99213, CLM05 11:B:1) written with it:
    # the same claims, but the tokenizer splits them by another character.
    text = x12_837p(3).decode()
    isa, rest = text.split("\n", 1)
    other = isa[:-2] + ">~\n" + rest.replace(":", ">")
    assert [s.number for s in claim_spans(other)] == [s.number for s in claim_spans(text)]
    assert parse_837(other).claims == parse_837(text).claims
    # Only the separator differs: the same text under another ISA16 is not the same claim.
    swapped = isa[:-2] + ">~\n" + rest
    assert all(
        a.digest != b.digest for a, b in zip(claim_spans(swapped), claim_spans(text), strict=True)
    )
    assert all(
        a.digest != b.digest for a, b in zip(claim_spans(other), claim_spans(text), strict=True)
    )


# --- the re-import ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_identical_re_import_skips_every_claim_unread(world: Any, acme: Any) -> None:
    content = x12_837p(5)
    first = run(world, content)

    assert first.created_count == 5
    stored = ImportDigest.objects.filter(practice=world.maple)
    assert sorted(d.claim.pms_claim_number for d in stored) == [f"B00000{n}" for n in range(1, 6)]
    assert all(d.version == d.claim.version == 1 for d in stored)
    assert len(unread(world, content)) == 5

    again = run(world, content)
    assert (again.total, again.created_count, again.skipped_count, again.conflict_count) == (
        5,
        0,
        5,
        0,
    )
    assert {e["message"] for e in again.errors} == {
        "already on file with the same content; not imported again"
    }
    assert Claim.objects.filter(practice=world.maple).count() == 5


@pytest.mark.django_db
def test_the_skip_path_reports_what_the_full_path_reports(world: Any, acme: Any) -> None:
    content = x12_837p(4)
    run(world, content)
    fast = run(world, content)
    ImportDigest.objects.all().delete()  # nothing known: every claim read and compared
    assert unread(world, content) == []
    full = run(world, content)

    assert entries(fast) == entries(full)
    fields = ("total", "created_count", "updated_count", "skipped_count", "conflict_count")
    assert [getattr(fast, f) for f in fields] == [getattr(full, f) for f in fields]
    # The full path records what it found the same: the next re-import skips unread again.
    assert len(unread(world, content)) == 4


@pytest.mark.django_db
def test_a_claim_edited_in_the_app_since_is_compared_and_its_difference_reported(
    world: Any, acme: Any
) -> None:
    content = x12_837p(3)
    run(world, content)
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="B000002")
    claim_services.claim_update_from_import(
        actor=world.mia,
        claim=claim,
        coverage=claim.coverage,
        provider=claim.provider,
        service_date_from=claim.service_date_from,
        diagnosis_codes=["J070"],
        lines=[
            {"procedure_code": line.procedure_code, "charge": line.charge, "units": line.units}
            for line in claim.lines.order_by("line_number")
        ],
    )

    assert unread(world, content) == ["B000001", "B000003"]
    again = run(world, content)
    assert (again.skipped_count, again.conflict_count) == (2, 1)
    (conflict,) = [e for e in again.errors if e["level"] == "conflict"]
    assert conflict["claim"] == "B000002"
    assert "diagnoses J070 → J069" in conflict["message"]


@pytest.mark.django_db
def test_a_claim_whose_patient_was_renamed_is_compared_the_full_way(world: Any, acme: Any) -> None:
    content = x12_837p(2)
    run(world, content)
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="B000001")
    practice_services.patient_save(actor=world.mia, patient=claim.patient, first_name="TESS")
    assert Claim.objects.get(pk=claim.pk).version == 1  # the claim itself did not change

    assert unread(world, content) == ["B000002"]
    again = run(world, content)
    (conflict,) = [e for e in again.errors if e["level"] == "conflict"]
    assert (conflict["claim"], "patient PATIENT00001, TESS" in conflict["message"]) == (
        "B000001",
        True,
    )


@pytest.mark.django_db
def test_a_claim_changed_without_a_compared_fact_is_read_once_then_skipped_again(
    world: Any, acme: Any
) -> None:
    content = x12_837p(2)
    run(world, content)
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="B000001")
    claim_services.claim_set_next_action(
        actor=world.mia,
        claim=claim,
        next_action=claim.next_action,
        next_action_due=claim.next_action_due + dt.timedelta(days=7),
    )

    assert unread(world, content) == ["B000002"]
    again = run(world, content)
    assert (again.skipped_count, again.conflict_count) == (2, 0)
    # Read and found the same: recorded with the claim's new version.
    digest = ImportDigest.objects.get(claim=claim)
    assert digest.version == Claim.objects.get(pk=claim.pk).version == 2
    assert unread(world, content) == ["B000001", "B000002"]


@pytest.mark.django_db
def test_one_changed_claim_in_an_otherwise_identical_file_is_reported(
    world: Any, acme: Any
) -> None:
    run(world, x12_837p(4))
    head, tail = x12_837p(4).split(b"CLM*B000003*139.50")
    tail = tail.replace(b"SV1*HC:99213*95.00", b"SV1*HC:99213*96.00", 1)
    changed = head + b"CLM*B000003*140.50" + tail  # B000003's first line: 96.00

    assert unread(world, changed) == ["B000001", "B000002", "B000004"]
    again = run(world, changed)
    assert (again.total, again.skipped_count) == (4, 3)
    (conflict,) = [e for e in again.errors if e["level"] == "conflict"]
    assert conflict["claim"] == "B000003"
    assert "total 139.50 → 140.50" in conflict["message"]
    assert "line(s) 1 differ" in conflict["message"]


@pytest.mark.django_db
def test_a_dry_run_stores_no_digest_and_a_rejected_file_none(world: Any, acme: Any) -> None:
    job = imports.import_file(
        actor=world.mia,
        practice=world.maple,
        content=x12_837p(2),
        filename="b.837",
        enqueue=False,
        dry_run=True,
    )
    imports.run_import_job(job.pk)

    assert not ImportDigest.objects.exists()


@pytest.mark.django_db
def test_a_claim_changed_between_compare_and_record_is_not_recorded(world: Any, acme: Any) -> None:
    content = x12_837p(3)
    run(world, content)
    ImportDigest.objects.all().delete()  # nothing known: every claim read and compared
    ctx = Context(
        actor=world.mia,
        practice=world.maple,
        outcome=Outcome(),
        owner=world.mia,
        can_edit_patients=True,
    )
    importer = x12_import.importer_for(ctx, content.decode())  # validate(): compared
    assert len(importer.as_filed) == 3  # all the same as on file
    # While the import runs, a user renames B000001's patient and changes B000002
    # without touching a compared fact (its version goes up).
    renamed = Claim.objects.get(practice=world.maple, pms_claim_number="B000001")
    practice_services.patient_save(actor=world.mia, patient=renamed.patient, first_name="TESS")
    moved = Claim.objects.get(practice=world.maple, pms_claim_number="B000002")
    claim_services.claim_set_next_action(
        actor=world.mia,
        claim=moved,
        next_action=moved.next_action,
        next_action_due=moved.next_action_due + dt.timedelta(days=7),
    )
    importer.apply()  # records the digests at its end

    stored = {d.claim.pms_claim_number: d.version for d in ImportDigest.objects.all()}
    assert stored == {"B000002": 2, "B000003": 1}  # versions as read when recorded
    assert unread(world, content) == ["B000002", "B000003"]
    again = run(world, content)
    (conflict,) = [e for e in again.errors if e["level"] == "conflict"]
    assert conflict["claim"] == "B000001"
    assert "PATIENT00001, TESS → PATIENT00001, TEST" in conflict["message"]


@pytest.mark.django_db
def test_a_new_claim_the_full_path_reports_is_not_recorded(world: Any, acme: Any) -> None:
    # The member id on file differs from the file's only in case: the import bills that
    # coverage (matched case-insensitively), the comparison reports the difference.
    patient = factories.PatientFactory(
        practice=world.maple,
        first_name="TEST",
        last_name="PATIENT00001",
        date_of_birth=dt.date(1950, 1, 2),
    )
    factories.CoverageFactory(
        patient=patient,
        payer=Payer.objects.get(practice=world.maple, payer_id="60054"),
        member_id="m00000001",
        cob_order=CobOrder.PRIMARY,
    )
    content = x12_837p(2)
    first = run(world, content)
    assert first.created_count == 2
    assert Claim.objects.get(pms_claim_number="B000001").coverage.member_id == "m00000001"

    assert [d.claim.pms_claim_number for d in ImportDigest.objects.all()] == ["B000002"]
    assert unread(world, content) == ["B000002"]
    for _ in range(2):  # reported on every re-import, never skipped
        again = run(world, content)
        (conflict,) = [e for e in again.errors if e["level"] == "conflict"]
        assert conflict["claim"] == "B000001"
        assert "member id 'm00000001' → 'M00000001'" in conflict["message"]
        assert (again.skipped_count, again.conflict_count) == (1, 1)


@pytest.mark.django_db
def test_digests_recorded_from_what_the_import_holds_are_those_a_read_gives(
    world: Any, acme: Any
) -> None:
    # The bulk path records its new claims' digests from the values it wrote
    # (x12_compare.held_facts), not from a read of them: the same rows as the read path,
    # incl. the claims the comparison reports (a member id differing in case on file;
    # a coverage corrected by a later claim of the file, seen as it is at the end).
    patient = factories.PatientFactory(
        practice=world.maple,
        first_name="TEST",
        last_name="PATIENT00001",
        date_of_birth=dt.date(1950, 1, 2),
    )
    factories.CoverageFactory(
        patient=patient,
        payer=Payer.objects.get(practice=world.maple, payer_id="60054"),
        member_id="m00000001",
        cob_order=CobOrder.PRIMARY,
    )
    text = x12_837p(6).decode()
    # Claim 5 names claim 4's patient with another member id: the coverage is corrected.
    text = text.replace("PATIENT00005*TEST****MI*M00000005", "PATIENT00004*TEST****MI*M00000044")
    text = text.replace("DMG*D8*19500106*F", "DMG*D8*19500105*F")
    ctx = Context(
        actor=world.mia,
        practice=world.maple,
        outcome=Outcome(),
        owner=world.mia,
        can_edit_patients=True,
    )
    importer = x12_import.importer_for(ctx, text)
    with CaptureQueriesContext(connection) as queries:
        x12_bulk.apply(importer)  # records the digests at its end, from what it holds
    assert len(importer.written) == 6 and ctx.outcome.created == 6
    line_reads = [q for q in queries if q["sql"].startswith("SELECT") and "claimline" in q["sql"]]
    assert [q for q in line_reads if "nextval" not in q["sql"]] == []  # nothing read back
    held = sorted(ImportDigest.objects.values_list("claim_id", "digest", "version", "related"))

    ImportDigest.objects.all().delete()
    rows = [(*importer.digests[id(c)], c) for c in importer.as_filed if id(c) in importer.digests]
    assert len(rows) == 6
    digests.record(world.maple.pk, rows)  # the facts read from the database
    read = sorted(ImportDigest.objects.values_list("claim_id", "digest", "version", "related"))

    assert held == read
    numbers = {d.claim.pms_claim_number for d in ImportDigest.objects.all()}
    assert numbers == {"B000002", "B000003", "B000005", "B000006"}


@pytest.mark.django_db
def test_held_facts_compare_as_the_facts_read_and_keep_no_containers_per_line(
    world: Any, acme: Any
) -> None:
    # The held facts of the claims the bulk path wrote are kept until the import's end:
    # one slotted object a claim, its lines as plain key tuples the garbage collector stops
    # tracking (not a namespace and three lists a line). They must compare as the facts
    # read back do, with the file as it is and with its lines, totals and codes changed.
    ctx = Context(
        actor=world.mia,
        practice=world.maple,
        outcome=Outcome(),
        owner=world.mia,
        can_edit_patients=True,
    )
    text = x12_837p(3).decode()
    importer = x12_import.importer_for(ctx, text)
    x12_bulk.apply(importer)
    held = {facts.pk: facts for facts in importer.written}
    read = {facts.pk: facts for facts in x12_compare.on_file_facts(world.maple, ["B000001"])}
    read |= {f.pk: f for f in x12_compare.on_file_facts(world.maple, ["B000002", "B000003"])}
    assert sorted(held) == sorted(read) and len(held) == 3

    changed = text.replace("SV1*HC:85025*32.50*UN*1", "SV1*HC:85025*32.50*UN*2").replace(
        "HI*ABK:J069~", "HI*ABK:J069*ABF:R05~"
    )
    recoded = text.replace("SV1*HC:36415*12.00*UN*1***1", "SV1*HC:36416:59*12.00*MJ*1***1")
    files = [parse_837(t).claims for t in (text, changed, recoded)]
    said = []
    for claims in files:
        for claim in claims:
            on_file = next(f for f in read.values() if f.pms_claim_number == claim.claim_number)
            found = x12_compare.differences(held[on_file.pk], claim)
            assert found == x12_compare.differences(on_file, claim)
            said.append(found)
    assert not any(said[:3]) and all(said[3:])

    # A collection untracks a tuple whose items are all untracked; the order it visits
    # them in can leave an outer tuple for the next one (three levels: keys, key, items).
    for _ in range(3):
        gc.collect()
    for facts in held.values():
        assert not hasattr(facts, "__dict__")
        assert facts.line_keys and not gc.is_tracked(facts.line_keys)


def test_a_held_line_keys_as_the_line_written_from_its_values_reads() -> None:
    # ClaimLine.all_teeth: the line's teeth, else its one tooth (lines before teeth
    # existed), else none.
    base = {
        "procedure_code": "D2391",
        "modifiers": ["59"],
        "diagnosis_pointers": [1, 2],
        "units": Decimal("1.00"),
        "unit_basis": "",
        "charge": Decimal("120.00"),
        "service_date": dt.date(2026, 1, 5),
        "service_date_to": None,
    }
    for teeth in (
        {"tooth": "", "surfaces": "", "teeth": []},
        {"tooth": "3", "surfaces": "MO", "teeth": []},
        {
            "tooth": "3",
            "surfaces": "MO",
            "teeth": [{"tooth": "3", "surfaces": "MO"}, {"tooth": "14", "surfaces": ""}],
        },
    ):
        values = {**base, **teeth}
        line = ClaimLine(**values)
        assert x12_compare._held_line_key(values) == x12_compare._on_file_line_key(line)
