"""Getting claims in: CSV (patients, appointments, claims) and X12 837 imports, the
job runner, the command, the pages and the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from claims import scrubber
from claims.choices import ActivityKind, ClaimStatus, ImportKind, ImportStatus, NextAction
from claims.imports import services
from claims.imports.results import describe
from claims.models import Claim, Estimate, ImportJob
from practices.choices import AppointmentStatus, ClaimFormat, Relationship
from practices.models import Appointment, Coverage, Patient, Payer, Practice, Provider
from tests import factories

FILES = Path(__file__).parent / "import_files"
SAMPLES = Path(__file__).parent / "samples"
PUBLIC = Path(__file__).parent / "samples" / "public"
MIXED = PUBLIC / "x12sdk-generated-mixed-patients.837"
COB = PUBLIC / "x12sdk-cob-two-other-payer-referring-providers.837"
TEMPLATES = Path(settings.BASE_DIR) / "claims" / "imports" / "templates_csv"
NPI = "1649999995"


@pytest.fixture
def ref(world: Any) -> dict[str, Any]:
    """Sunrise's payers and provider, as the import files name them."""
    return {
        "delta": factories.PayerFactory(
            practice=world.sunrise,
            payer_id="DT001",
            name="Delta Teeth",
            claim_format=ClaimFormat.DENTAL,
            timely_filing_days=365,
        ),
        "guardian": factories.PayerFactory(
            practice=world.sunrise, payer_id="GD555", name="Guardian Dental"
        ),
        "provider": factories.ProviderFactory(practice=world.sunrise, npi=NPI),
    }


def run(world: Any, content: bytes | str, *, user: Any = None, **kwargs: Any) -> ImportJob:
    """Import through the service as bill (default) and run the job now."""
    if isinstance(content, str):
        content = content.encode()
    kwargs.setdefault("filename", "upload.csv")
    job = services.import_file(
        actor=world.bill if user is None else user,
        practice=kwargs.pop("practice", world.sunrise),
        content=content,
        **kwargs,
    )
    ran = services.run_import_job(job.pk)
    assert ran is not None
    return ran


def run_file(world: Any, path: Path, **kwargs: Any) -> ImportJob:
    return run(world, path.read_bytes(), filename=path.name, **kwargs)


def messages(job: ImportJob, level: str = "error") -> list[str]:
    return [describe(e) for e in job.errors if e["level"] == level]


@pytest.fixture
def patients(world: Any, ref: dict[str, Any]) -> ImportJob:
    job = run_file(world, FILES / "patients.csv")
    assert job.status == ImportStatus.DONE, job.errors
    return job


def sunrise_claims() -> Any:
    return Claim.objects.filter(pms_claim_number__startswith="C1").order_by("pms_claim_number")


# --- CSV: patients ----------------------------------------------------------------------


def test_patients_file_creates_patients_and_coverages(world, patients):
    assert patients.kind == ImportKind.CSV_PATIENTS  # detected from the header
    assert (patients.total, patients.processed) == (4, 4)
    assert (patients.created_count, patients.updated_count, patients.skipped_count) == (3, 0, 0)
    arjun = Patient.objects.get(practice=world.sunrise, account_number="A10002")
    assert (arjun.first_name, arjun.date_of_birth, arjun.state) == (
        "Arjun",
        dt.date(2014, 9, 9),
        "OR",
    )
    coverages = {c.cob_order: c for c in arjun.coverages.select_related("payer")}
    assert coverages[1].payer.payer_id == "GD555"
    assert (coverages[2].payer.payer_id, coverages[2].member_id) == ("DT001", "DEN990011")
    assert coverages[2].subscriber_relationship == Relationship.CHILD
    assert coverages[2].subscriber_name == "Priya Patel"
    morgan = Patient.objects.get(account_number="A10001")
    assert morgan.coverages.get().subscriber_name == "Morgan Lee"
    assert not Patient.objects.get(account_number="A10003").coverages.exists()
    assert morgan.history.get().history_user == world.bill


def test_patients_reimport_updates_instead_of_duplicating(world, patients):
    changed = (FILES / "patients.csv").read_text().replace("503-555-0101", "503-555-0199")
    job = run(world, changed)
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 2)
    assert Patient.objects.filter(account_number="A10001").count() == 1
    assert Patient.objects.get(account_number="A10001").phone == "503-555-0199"
    assert "2 record(s) already up to date (counted as skipped)" in messages(job, "note")


def test_patients_file_switches_a_coverage_payer(world, patients, ref):
    changed = (FILES / "patients.csv").read_text().replace("DT001,DEN445566", "GD555,NEW-1")
    job = run(world, changed)
    assert job.updated_count == 1
    coverage = Coverage.objects.get(patient__account_number="A10001", cob_order=1)
    assert (coverage.payer, coverage.member_id) == (ref["guardian"], "NEW-1")


def test_patients_file_rows_of_one_account_must_agree(world, ref):
    lines = (FILES / "patients.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",Patel,", ",Patil,")
    job = run(world, "\n".join(lines))
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [
        "row 4, last_name: 'Patil' differs from 'Patel' on row 3 for the same account"
    ]
    assert not Patient.objects.filter(account_number__startswith="A1000").exists()


def test_front_desk_cannot_reach_imports_but_vera_cannot_import_patients(world, ref):
    content = (FILES / "patients.csv").read_bytes()
    for user in (world.vera, world.fran):  # vera: no edit_patients; fran: no work_claims
        with pytest.raises(PermissionDenied):
            services.import_file(
                actor=user, practice=world.sunrise, content=content, filename="p.csv"
            )
    assert not ImportJob.objects.exists()


# --- CSV: appointments ------------------------------------------------------------------


def test_appointments_file_creates_then_updates(world, patients):
    job = run_file(world, FILES / "appointments.csv")
    assert job.kind == ImportKind.CSV_APPOINTMENTS
    assert (job.status, job.created_count) == (ImportStatus.DONE, 3), job.errors
    visit = Appointment.objects.get(patient__account_number="A10002")
    local = timezone.localtime(visit.starts_at)
    assert (local.hour, local.minute, visit.duration_minutes) == (10, 30, 30)
    assert visit.planned_procedures == ["D0120"]
    rivera = Appointment.objects.get(patient__account_number="A10003")
    assert rivera.status == AppointmentStatus.COMPLETED
    assert rivera.starts_at == dt.datetime(2026, 1, 20, 19, 0, tzinfo=dt.UTC)

    again = (FILES / "appointments.csv").read_text().replace("D1110;D0120", "D1110")
    job = run(world, again)
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 2)
    assert Appointment.objects.filter(
        patient__account_number="A10001"
    ).get().planned_procedures == ["D1110"]


def test_appointment_with_unknown_provider_is_rejected(world, patients):
    text = (FILES / "appointments.csv").read_text().replace(f"A10003,{NPI}", "A10003,1111111111")
    job = run(world, text)
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [
        "row 4, provider_npi: no provider with NPI '1111111111' at Sunrise Dental (add it first)"
    ]
    assert not Appointment.objects.filter(patient__account_number__startswith="A1000").exists()


# --- CSV: claims ------------------------------------------------------------------------


def test_claims_file_creates_claims_with_lines(world, patients, ref):
    job = run_file(world, FILES / "claims.csv")
    assert job.kind == ImportKind.CSV_CLAIMS
    assert (job.status, job.total, job.created_count, job.rejected_count) == (
        ImportStatus.DONE,
        5,
        3,
        0,
    ), job.errors
    c100, c101, c102 = sunrise_claims()
    assert c100.total_billed == Decimal("285.00")
    assert [(x.procedure_code, x.tooth, x.surfaces) for x in c100.lines.all()] == [
        ("D2392", "14", "MO"),
        ("D1110", "", ""),
    ]
    assert (c100.payer, c100.claim_format, c100.coverage.cob_order) == (
        ref["delta"],
        ClaimFormat.DENTAL,
        1,
    )
    # The claim's dates span its lines; diagnosis codes lose the dot, as in X12.
    assert (c101.service_date_from, c101.service_date_to) == (
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 9),
    )
    assert c101.diagnosis_codes == ["K0251"]
    assert (c101.total_billed, c101.other_payer_paid) == (Decimal("1120.00"), Decimal("110.00"))
    assert c101.lines.get(line_number=2).surfaces == "MOD"
    assert c101.coverage.cob_order == 2
    assert c102.total_billed == Decimal("85.00")
    # A new draft: owned by the importer, "prepare and submit" due today (issue 9: nothing
    # was sent yet, so "correct and resubmit" did not fit).
    assert (c100.status, c100.owner, c100.next_action, c100.next_action_due) == (
        ClaimStatus.DRAFT,
        world.bill,
        NextAction.PREPARE_AND_SUBMIT,
        timezone.localdate(),
    )
    assert c100.activities.get().kind == ActivityKind.CREATED
    assert c100.history.first().history_user == world.bill


def test_claims_file_adds_a_missing_coverage(world, patients, ref):
    job = run_file(world, FILES / "claims.csv")  # A10003 has no coverage on file
    coverage = Coverage.objects.get(patient__account_number="A10003")
    assert (coverage.payer, coverage.member_id, coverage.cob_order) == (ref["guardian"], "GX-1", 1)
    assert "row 6, claim C102: added primary coverage with GD555 for patient A10003" in messages(
        job, "note"
    )


CLAIM_HEADER = (
    "pms_claim_number,patient_account,payer_id,member_id,provider_npi,service_date,"
    "procedure_code,diagnosis_pointers,units,charge"
)
CLAIM_ROW = {
    "pms_claim_number": "C100",
    "patient_account": "A10001",
    "payer_id": "DT001",
    "member_id": "DEN445566",
    "provider_npi": NPI,
    "service_date": "2026-01-05",
    "procedure_code": "D1110",
    "diagnosis_pointers": "",
    "units": "1",
    "charge": "95.00",
}


def claims_csv(*rows: dict[str, str], header: str = CLAIM_HEADER) -> str:
    names = header.split(",")
    lines = [header] + [",".join({**CLAIM_ROW, **row}[n] for n in names) for row in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("charge", "abc", "row 3, charge: 'abc' is not an amount"),
        ("charge", "-5.00", "row 3, charge: '-5.00' is negative"),
        ("charge", "", "row 3, charge: required, but the cell is empty"),
        (
            "service_date",
            "2026-02-30",
            "row 3, service_date: '2026-02-30' is not a date (use YYYY-MM-DD or MM/DD/YYYY)",
        ),
        ("units", "-1", "row 3, units: '-1' must be more than 0"),
        ("units", "two", "row 3, units: 'two' is not a number"),
        (
            "patient_account",
            "A99999",
            "row 3, patient_account: no patient account 'A99999' at Sunrise Dental "
            "(import the patients file first)",
        ),
        (
            "payer_id",
            "NOPE",
            "row 3, payer_id: no payer with id 'NOPE' at Sunrise Dental (add it first)",
        ),
        (
            "provider_npi",
            "1111111111",
            "row 3, provider_npi: no provider with NPI '1111111111' at Sunrise Dental "
            "(add it first)",
        ),
        (
            "diagnosis_pointers",
            "A",
            "row 3, diagnosis_pointers: 'A' is not a diagnosis pointer (1-12)",
        ),
    ],
)
def test_bad_claim_row_rejects_the_file(world, patients, cell, value, expected):
    job = run(world, claims_csv({"pms_claim_number": "C200"}, {cell: value}))
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [expected]
    assert job.errors[0]["row"] == 3
    assert (job.created_count, job.rejected_count) == (0, 1)
    assert not sunrise_claims().exists()  # not even the good claim on row 2


def test_missing_required_column_rejects_the_file(world, patients):
    header = CLAIM_HEADER.replace(",charge", "")
    job = run(world, claims_csv({}, header=header), kind=ImportKind.CSV_CLAIMS)
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [
        "row 1, charge: required column is missing (add it, or map one of your columns to it)"
    ]


def test_claim_level_columns_must_repeat_on_each_line(world, patients):
    job = run(world, claims_csv({}, {"member_id": "OTHER"}))
    assert messages(job) == [
        "row 3, member_id: 'OTHER' differs from 'DEN445566' on row 2: repeat the claim's "
        "value on each of its lines"
    ]


def test_diagnosis_pointer_out_of_range_is_a_scrub_finding_not_an_import_error(world, patients):
    job = run(world, claims_csv({"diagnosis_pointers": "4"}))
    assert job.status == ImportStatus.DONE, job.errors
    claim = Claim.objects.get(pms_claim_number="C100")
    assert claim.lines.get().diagnosis_pointers == [4]
    claim.claim_format = ClaimFormat.PROFESSIONAL  # pointers are checked on 837P claims
    rules = {f.rule for f in scrubber.scrub(claim)}
    assert "missing_diagnosis_pointer" in rules


def test_one_bad_row_writes_nothing_from_the_file(world, patients):
    job = run_file(world, FILES / "claims_one_bad_row.csv")
    assert job.status == ImportStatus.FAILED
    assert messages(job) == ["row 7, charge: 'abc' is not an amount"]
    assert (job.created_count, job.updated_count, job.skipped_count, job.rejected_count) == (
        0,
        0,
        0,
        1,
    )
    assert not sunrise_claims().exists()
    # Nothing else of the file either: no coverage was added for A10003.
    assert not Coverage.objects.filter(patient__account_number="A10003").exists()


def test_reimport_updates_drafts_skips_submitted_and_never_duplicates(world, patients):
    run_file(world, FILES / "claims.csv")
    c100 = Claim.objects.get(pms_claim_number="C100")
    # C102 went to the payer meanwhile (set directly: the submission flow is not the point).
    Claim.objects.filter(pms_claim_number="C102").update(status=ClaimStatus.SUBMITTED)
    text = (FILES / "claims.csv").read_text()
    text = text.replace("D1110,,,,,1,95.00", "D1110,,,,,1,99.00").replace("$85.00", "$90.00")

    job = run(world, text)

    assert job.status == ImportStatus.DONE, job.errors
    counts = (job.created_count, job.updated_count, job.skipped_count, job.conflict_count)
    assert counts == (0, 1, 1, 1)
    assert Claim.objects.filter(pms_claim_number__startswith="C1").count() == 3
    c100.refresh_from_db()
    assert c100.total_billed == Decimal("289.00")
    assert c100.lines.get(line_number=2).charge == Decimal("99.00")
    assert c100.version == 2
    edit = c100.activities.filter(kind=ActivityKind.EDIT).get()
    assert edit.actor == world.bill and "Updated from a PMS import" in edit.text
    # C102 is with the payer and the file says $90.00, not $85.00: a conflict, not a skip.
    assert messages(job, "conflict") == [
        "row 6, claim C102: already submitted and the file says otherwise; not changed: "
        "correct the claim on its page"
    ]
    c102 = Claim.objects.get(pms_claim_number="C102")
    assert c102.total_billed == Decimal("85.00")


def test_reimport_moves_a_ready_claim_back_to_draft(world, patients):
    run(world, claims_csv({}))
    Claim.objects.filter(pms_claim_number="C100").update(status=ClaimStatus.READY)
    job = run(world, claims_csv({"charge": "96.00"}))
    assert job.updated_count == 1
    claim = Claim.objects.get(pms_claim_number="C100")
    assert (claim.status, claim.total_billed) == (ClaimStatus.DRAFT, Decimal("96.00"))


def test_dry_run_writes_nothing_but_reports_what_would_happen(world, patients):
    before = (Claim.objects.count(), Coverage.objects.count())
    job = run_file(world, FILES / "claims.csv", dry_run=True)
    assert (job.status, job.dry_run) == (ImportStatus.DONE, True)
    assert (job.created_count, job.rejected_count) == (3, 0)
    assert (Claim.objects.count(), Coverage.objects.count()) == before

    bad = run_file(world, FILES / "claims_one_bad_row.csv", dry_run=True)
    assert bad.status == ImportStatus.FAILED
    assert messages(bad) == ["row 7, charge: 'abc' is not an amount"]


def test_column_mapping_reads_the_pms_headers(world, patients):
    mapping = {
        "pms_claim_number": "Claim #",
        "patient_account": "acct",
        "payer_id": "Payer",
        "member_id": "Member",
        "provider_npi": "Rendering NPI",
        "service_date": "DOS",
        "diagnosis_codes": "Dx",
        "procedure_code": "Code",
        "modifiers": "Mods",
        "diagnosis_pointers": "Ptr",
        "tooth": "Tooth #",
        "surfaces": "Surf",
        "units": "Qty",
        "charge": "Fee",
    }
    job = run_file(world, FILES / "claims_pms_headers.csv", column_mapping=mapping)
    assert (job.kind, job.status, job.created_count) == (
        ImportKind.CSV_CLAIMS,
        ImportStatus.DONE,
        1,
    )
    assert job.column_mapping == mapping
    claim = Claim.objects.get(pms_claim_number="C100")
    assert (claim.total_billed, claim.service_date_from) == (Decimal("285.00"), dt.date(2026, 1, 5))


def test_headers_match_our_names_whatever_their_case(world, patients):
    header = (
        "PMS Claim Number,Patient-Account,PAYER_ID,Member ID,Provider NPI,Service Date,"
        "Procedure Code,Diagnosis Pointers,Units,Charge"
    )
    text = claims_csv({}).replace(CLAIM_HEADER, header)
    job = run(world, text)
    assert (job.kind, job.created_count) == (ImportKind.CSV_CLAIMS, 1), job.errors


def test_mapping_to_a_missing_header_is_reported(world, patients):
    job = run(world, claims_csv({}), column_mapping={"charge": "Fee"})
    assert job.status == ImportStatus.FAILED
    assert messages(job) == ["row 1, charge: the column mapping names 'Fee': no such column"]


def test_unknown_csv_layout_is_refused_at_upload(world):
    with pytest.raises(ValidationError) as exc:
        services.import_file(
            actor=world.bill, practice=world.sunrise, content=b"a,b\n1,2\n", filename="x.csv"
        )
    assert "Could not tell what this file holds" in exc.value.messages[0]


def test_csv_templates_import_cleanly(world):
    """The sample files we hand out import as documented (they name the demo's payers and
    provider: ``test_csv_templates_import_into_the_demo``)."""
    for payer_id in ("DDPA1", "64246"):
        factories.PayerFactory(practice=world.sunrise, payer_id=payer_id)
    factories.ProviderFactory(practice=world.sunrise, npi="1234567893")
    docs = (Path(settings.BASE_DIR) / "docs" / "import-templates.md").read_text()
    counts = {}
    for name in ("patients", "appointments", "claims"):
        job = run_file(world, TEMPLATES / f"{name}.csv")
        assert job.status == ImportStatus.DONE, (name, job.errors)
        counts[name] = job.created_count
        header = (TEMPLATES / f"{name}.csv").read_text().splitlines()[0]
        for column in header.split(","):
            assert f"`{column}`" in docs, (name, column)
    assert counts == {"patients": 3, "appointments": 3, "claims": 2}


def _readme_import_commands() -> list[list[str]]:
    """The ``import_claims`` command lines README.md shows, as argument lists."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    lines = [line for line in readme.splitlines() if "manage.py import_claims" in line]
    return [shlex.split(line.split("manage.py", 1)[1]) for line in lines]


def test_csv_templates_import_into_the_demo_with_the_readmes_commands(db):
    """The Imports page's samples import as they are into the seeded demo practice, by
    exactly the commands README.md shows."""
    call_command("seed_demo", stdout=io.StringIO())
    practice = Practice.objects.get(slug="sunrise-dental")
    commands = _readme_import_commands()
    assert len(commands) == 3
    before = Claim.objects.filter(practice=practice).count()
    outputs = []
    for name, *args in commands:
        args = [str(Path(settings.BASE_DIR) / a) if a.endswith(".csv") else a for a in args]
        out = io.StringIO()
        call_command(name, *args, stdout=out)
        outputs.append(out.getvalue())
    # The dry run wrote nothing; the import created the sample's two claims, owned by bill.
    assert "preview: nothing written" in outputs[1], outputs[1]
    created = Claim.objects.filter(practice=practice).order_by("-pk")[:2]
    assert Claim.objects.filter(practice=practice).count() == before + 2
    assert {claim.owner.username for claim in created} == {"bill.biller"}


# --- X12 ----------------------------------------------------------------------------------


def test_public_mixed_patients_sample_imports_with_expected_totals(world):
    job = run_file(world, MIXED)
    assert (job.kind, job.status, job.total, job.created_count) == (
        ImportKind.X12_837,
        ImportStatus.DONE,
        6,
        6,
    ), job.errors
    expected = {
        "PCN000001": "2472.31",
        "PCN000002": "489.14",
        "PCN000003": "2497.84",
        "PCN000004": "2644.34",
        "PCN000005": "209.62",
        "PCN000006": "642.22",
    }
    claims = Claim.objects.filter(pms_claim_number__startswith="PCN").prefetch_related("lines")
    assert {c.pms_claim_number: c.total_billed for c in claims} == {
        k: Decimal(v) for k, v in expected.items()
    }
    for claim in claims:
        assert claim.total_billed == sum(line.charge for line in claim.lines.all())
    # The sample's README says 15 lines; the file itself holds 13 LX loops (3+3+2+1+1+3).
    assert sum(c.lines.count() for c in claims) == 13
    # A dependent's claim is the patient's, billed on the subscriber's policy.
    mary = Claim.objects.get(pms_claim_number="PCN000004")
    assert (mary.patient.first_name, mary.patient.last_name) == ("MARY", "MARTIN")
    assert mary.coverage.subscriber_name == "SUSAN THOMAS"
    assert mary.coverage.subscriber_relationship == Relationship.CHILD
    assert mary.coverage.member_id == "Z130251451"
    # Unknown payers and providers are created and reported.
    assert Payer.objects.filter(practice=world.sunrise, claim_format="837P").count() == 6
    assert Provider.objects.get(npi="2697436980").practice == world.sunrise
    notes = messages(job, "note")
    assert any(n.startswith("created payer EXAMPLE HEALTH PLAN (090253)") for n in notes)
    assert "created provider with NPI 2697436980: fill in the name" in notes


def test_public_cob_sample_sets_other_payer_paid(world):
    job = run_file(world, COB)
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1), job.errors
    claim = Claim.objects.get(pms_claim_number="101KEN6055")
    assert claim.total_billed == Decimal("120.00")
    assert claim.other_payer_paid == Decimal("80.00")
    assert claim.coverage.cob_order == 2  # SBR*S
    assert (claim.payer.payer_id, claim.payer.name, claim.payer.timely_filing_days) == (
        "10234",
        "MEDICARE",
        90,
    )
    assert claim.provider.npi == "9090909090"  # rendering, not billing
    line = claim.lines.get()
    assert (line.procedure_code, line.modifiers, line.diagnosis_pointers) == (
        "99203",
        ["25"],
        [1, 2],
    )
    assert claim.diagnosis_codes == ["71516", "71906"]
    assert "secondary_without_primary" not in {f.rule for f in scrubber.scrub(claim)}


def test_importing_the_same_batch_twice_skips_every_claim(world):
    first = run_file(world, MIXED)
    second = run_file(world, MIXED)
    assert (second.status, second.created_count, second.skipped_count) == (
        ImportStatus.DONE,
        0,
        6,
    )
    assert messages(second, "skipped")[0] == (
        "claim PCN000001: already on file with the same content; not imported again"
    )
    assert Claim.objects.count() == first.created_count
    assert Patient.objects.filter(account_number__startswith="X12-").count() == 6


def test_malformed_x12_is_rejected_whole_with_the_segment(world):
    job = run_file(world, FILES / "malformed_charge.837")
    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["segment"] == 30
    assert job.errors[0]["segment_id"] == "SV1"
    assert messages(job) == ["segment 30 (SV1): SV102 line charge '7S.00' is not a number"]
    assert not Claim.objects.exists()


def test_dental_sample_creates_teeth_surfaces_and_dependents(world):
    job = run_file(world, SAMPLES / "dental_two_claims.837")
    assert (job.status, job.created_count) == (ImportStatus.DONE, 2), job.errors
    first = Claim.objects.get(pms_claim_number="SD-2001")
    assert first.claim_format == ClaimFormat.DENTAL
    assert [(x.procedure_code, x.tooth, x.surfaces) for x in first.lines.all()] == [
        ("D2392", "14", "MO"),
        ("D1110", "", ""),
    ]
    second = Claim.objects.get(pms_claim_number="SD-2002")
    assert second.lines.get(line_number=3).tooth == "3"
    assert second.lines.get(line_number=3).surfaces == "MOD"
    assert second.lines.get(line_number=2).units == Decimal("2")
    assert second.other_payer_paid == Decimal("110.00")
    assert (second.patient.first_name, second.coverage.cob_order) == ("ARJUN", 2)
    assert second.coverage.subscriber_relationship == Relationship.CHILD


def test_x12_matches_patients_already_on_file(world, patients):
    job = run_file(world, SAMPLES / "dental_two_claims.837")
    assert job.status == ImportStatus.DONE, job.errors
    claim = Claim.objects.get(pms_claim_number="SD-2002")
    assert claim.patient.account_number == "A10002"  # name + date of birth
    assert claim.coverage.member_id == "DEN990011"
    assert not Patient.objects.filter(account_number__startswith="X12-").exists()


def test_x12_without_edit_patients_cannot_add_patients(world):
    job = run_file(world, COB, user=world.vera)
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [
        "claim 101KEN6055: patient MEDYUM, WAYNE (born 01/10/1956) is not on file, and you "
        "may not add patients at Sunrise Dental: import the patients file first"
    ]
    assert not Payer.objects.filter(payer_id="10234").exists()


# --- the job runner ---------------------------------------------------------------------


def test_a_finished_job_is_not_run_again(world, patients):
    job = run_file(world, FILES / "claims.csv")
    again = services.run_import_job(job.pk)
    assert again is not None
    assert (again.status, again.created_count, again.finished_at) == (
        ImportStatus.DONE,
        3,
        job.finished_at,
    )
    assert Claim.objects.filter(pms_claim_number__startswith="C1").count() == 3
    assert services.run_import_job(987654) is None


def test_a_running_job_is_left_to_its_worker_unless_it_is_stale(world, patients):
    job = services.import_file(
        actor=world.bill,
        practice=world.sunrise,
        content=(FILES / "claims.csv").read_bytes(),
        filename="claims.csv",
    )
    started = timezone.now() - dt.timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=started)
    assert services.run_import_job(job.pk).status == ImportStatus.RUNNING
    assert not sunrise_claims().exists()

    stale = timezone.now() - services.STALE_AFTER - dt.timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(started_at=stale)
    assert services.run_import_job(job.pk).status == ImportStatus.DONE
    assert sunrise_claims().count() == 3


def test_import_file_queues_the_task_on_commit(
    world, ref, monkeypatch, django_capture_on_commit_callbacks
):
    from claims.imports import tasks

    sent: list[Any] = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda *a, **k: sent.append((a, k)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.import_file(
            actor=world.bill,
            practice=world.sunrise,
            content=(FILES / "patients.csv").read_bytes(),
            filename="patients.csv",
            default_owner=world.sam,
        )
    assert job.status == ImportStatus.PENDING
    assert sent == []  # nothing leaves before the job is committed
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [((job.pk,), {"default_owner_id": world.sam.pk})]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x" * (10 * 1024 * 1024 + 1), "The file is 10.0 MB; the limit is 10 MB."),
        (b"PK\x03\x04\x00\x00binary", "This is not a text file (it contains NUL bytes)"),
        ("account_number,first_name\nA1,Zoë\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"  \n", "The file is empty."),
    ],
)
def test_upload_size_and_type_are_checked(world, content, message):
    with pytest.raises(ValidationError) as exc:
        services.import_file(
            actor=world.bill, practice=world.sunrise, content=content, filename="f.csv"
        )
    assert message in exc.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()


def test_kind_must_fit_the_content(world):
    with pytest.raises(ValidationError) as exc:
        services.import_file(
            actor=world.bill,
            practice=world.sunrise,
            content=MIXED.read_bytes(),
            filename="batch.837",
            kind=ImportKind.CSV_CLAIMS,
        )
    assert exc.value.message_dict["kind"] == ["This is an X12 file, not a CSV file."]


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite shows progress at the end only (one write lock per database)")
    job = ImportJob.objects.create(
        practice=world.sunrise, kind=ImportKind.CSV_CLAIMS, filename="f.csv", total=40
    )
    observer = connection.copy()
    try:
        with services._Progress(job.pk, every=20) as progress, transaction.atomic():
            progress(19)
            progress(20)
            with observer.cursor() as cursor:
                cursor.execute("SELECT processed FROM claims_importjob WHERE id = %s", [job.pk])
                assert cursor.fetchone() == (20,)
    finally:
        observer.close()


# --- the command --------------------------------------------------------------------------


def test_command_prints_counts(world, patients):
    out = io.StringIO()
    call_command(
        "import_claims",
        str(FILES / "claims.csv"),
        "--practice",
        "sunrise",
        "--as",
        "bill",
        stdout=out,
    )
    text = out.getvalue()
    assert "Done" in text
    assert "created 3, updated 0, skipped 0, rejected 0" in text
    job = ImportJob.objects.latest("pk")
    assert (job.created_by, job.filename, job.status) == (world.bill, "claims.csv", "done")


def test_command_dry_run_and_mapping(world, patients):
    out = io.StringIO()
    call_command(
        "import_claims",
        str(FILES / "claims_pms_headers.csv"),
        f"--practice={world.sunrise.pk}",
        "--as=bill",
        "--dry-run",
        *[
            f"--map={ours}={theirs}"
            for ours, theirs in {
                "pms_claim_number": "Claim #",
                "patient_account": "Acct",
                "payer_id": "Payer",
                "member_id": "Member",
                "provider_npi": "Rendering NPI",
                "service_date": "DOS",
                "procedure_code": "Code",
                "units": "Qty",
                "charge": "Fee",
            }.items()
        ],
        stdout=out,
    )
    assert "(preview: nothing written)" in out.getvalue()
    assert "created 1, updated 0" in out.getvalue()
    assert not Claim.objects.filter(pms_claim_number="C100").exists()


def test_command_exits_non_zero_on_a_rejected_file(world, patients):
    out = io.StringIO()
    with pytest.raises(CommandError, match="Rejected: nothing from claims_one_bad_row.csv"):
        call_command(
            "import_claims",
            str(FILES / "claims_one_bad_row.csv"),
            "--practice",
            "sunrise",
            "--as",
            "bill",
            stdout=out,
        )
    assert "created 0, updated 0, skipped 0, rejected 1" in out.getvalue()
    assert "rejected: row 7, charge: 'abc' is not an amount" in out.getvalue()
    assert not sunrise_claims().exists()


def test_command_reports_skip_reasons_and_unknown_practice(world, patients):
    run_file(world, FILES / "claims.csv")
    Claim.objects.filter(pms_claim_number="C100").update(status=ClaimStatus.SUBMITTED)
    out = io.StringIO()
    call_command(
        "import_claims",
        str(FILES / "claims.csv"),
        "--practice",
        "sunrise",
        "--as",
        "bill",
        stdout=out,
    )
    assert "skipped: row 2, claim C100: already submitted; not changed" in out.getvalue()
    with pytest.raises(CommandError, match="No practice 'nowhere'"):
        call_command("import_claims", str(FILES / "claims.csv"), "--practice", "nowhere")


def test_command_without_a_user_cannot_own_new_claims(world, patients):
    with pytest.raises(CommandError):
        call_command(
            "import_claims",
            str(FILES / "claims.csv"),
            "--practice",
            "sunrise",
            stdout=io.StringIO(),
        )
    job = ImportJob.objects.latest("pk")
    assert messages(job) == ["new claims need an owner: import as a user (--as USERNAME)"]


# --- pages --------------------------------------------------------------------------------


def in_sunrise(client: Any, world: Any) -> Any:
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


def upload(path: Path, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes() if content is None else content)


def test_upload_page_previews_then_imports(world, client_for, patients):
    client = in_sunrise(client_for(world.bill), world)
    page = client.get("/imports/")
    assert page.status_code == 200
    assert b"Preview only" in page.content and b"patients.csv" in page.content

    response = client.post(
        "/imports/",
        {"file": upload(FILES / "claims.csv"), "kind": "", "dry_run": "on", "column_mapping": ""},
    )
    job = ImportJob.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert (job.status, job.dry_run, job.kind) == (ImportStatus.PENDING, True, "csv_claims")

    pending = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"})
    assert b'hx-trigger="every 2s"' in pending.content
    assert b"<html" not in pending.content  # the partial only

    services.run_import_job(job.pk)
    done = client.get(f"/imports/{job.pk}/")
    assert b'hx-trigger="every 2s"' not in done.content
    assert b"Would create" in done.content and b"Import this file" in done.content

    response = client.post(f"/imports/{job.pk}/run/")
    real = ImportJob.objects.latest("pk")
    assert response["Location"] == f"/imports/{real.pk}/"
    assert (real.dry_run, real.column_mapping) == (False, {})
    services.run_import_job(real.pk)
    assert sunrise_claims().count() == 3


def test_job_page_shows_live_status_not_a_stale_queued_message(world, client_for, patients):
    """Issue 9: "… queued." stayed on the page after the import had finished."""
    client = in_sunrise(client_for(world.bill), world)
    response = client.post(
        "/imports/",
        {"file": upload(FILES / "claims.csv"), "kind": "", "dry_run": "", "column_mapping": ""},
        follow=True,
    )
    job = ImportJob.objects.latest("pk")
    assert response.redirect_chain == [(f"/imports/{job.pk}/", 302)]
    # Pending: the status says queued, and the progress part polls itself.
    html = response.content.decode()
    assert "claims.csv queued" not in html and 'id="job-queued"' in html
    assert 'hx-trigger="every 2s"' in html
    poll = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "Queued:" in poll and "Waiting to run" in poll

    services.run_import_job(job.pk)
    # Done: the next poll (and a reload) show the result, and nothing says queued.
    for page in (
        client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}),
        client.get(f"/imports/{job.pk}/"),
    ):
        html = page.content.decode()
        assert "queued" not in html.lower() and 'hx-trigger="every 2s"' not in html
        assert "Imported " in html and ">Done<" in html
    assert sunrise_claims().count() == 3


def test_detail_page_lists_rejected_rows(world, client_for, patients):
    job = run_file(world, FILES / "claims_one_bad_row.csv")
    response = in_sunrise(client_for(world.vera), world).get(f"/imports/{job.pk}/")
    assert response.status_code == 200
    assert b"Rejected rows" in response.content
    assert b"&#x27;abc&#x27; is not an amount" in response.content
    assert b"Import this file" not in response.content


def test_upload_page_shows_file_and_mapping_errors(world, client_for, ref):
    client = in_sunrise(client_for(world.bill), world)
    response = client.post("/imports/", {"file": upload(FILES / "x.xlsx", b"PK\x03\x04\x00\x00")})
    assert response.status_code == 400
    assert b"This is not a text file" in response.content
    response = client.post(
        "/imports/",
        {"file": upload(FILES / "claims.csv"), "column_mapping": "charge Fee"},
    )
    assert response.status_code == 400
    assert b"Line 1: write our_field = Your column header" in response.content
    assert not ImportJob.objects.exists()


def test_upload_page_refuses_a_file_over_10_mb(world, client_for, ref):
    client = in_sunrise(client_for(world.bill), world)
    big = SimpleUploadedFile("big.csv", b"a,b\n" + b"1,2\n" * (10 * 1024 * 1024 // 4 + 1))
    response = client.post("/imports/", {"file": big})
    assert response.status_code == 400
    assert b"the limit is 10 MB" in response.content
    assert not ImportJob.objects.exists()


def test_vera_may_not_import_patients_from_the_page(world, client_for, ref):
    client = in_sunrise(client_for(world.vera), world)
    response = client.post("/imports/", {"file": upload(FILES / "patients.csv")})
    assert response.status_code == 400
    assert b"You may not add or change patients" in response.content


@pytest.mark.parametrize("name", ["patients", "appointments", "claims"])
def test_template_download(world, client_for, name):
    response = in_sunrise(client_for(world.vera), world).get(f"/imports/templates/{name}.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (TEMPLATES / f"{name}.csv").read_bytes()
    response.close()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("sam", True), ("bill", True), ("vera", True), ("val", True), ("vic", False), ("fran", False)],
)
def test_import_pages_need_work_claims(world, client_for, ref, persona, allowed):
    job = run_file(world, FILES / "claims_one_bad_row.csv")
    client = in_sunrise(client_for(world.users[persona]), world)
    expected = 200 if allowed else 404
    listing = client.get("/imports/")
    detail = client.get(f"/imports/{job.pk}/")
    download = client.get("/imports/templates/claims.csv")
    assert (listing.status_code, detail.status_code, download.status_code) == (expected,) * 3
    # What each answer carries: the job and its rejected row, the template file; or nothing.
    shown = b"claims_one_bad_row.csv" in listing.content and b'id="job-errors"' in detail.content
    template = b"".join(download.streaming_content) if allowed else download.content
    download.close()
    assert shown is allowed
    assert (template == (TEMPLATES / "claims.csv").read_bytes()) is allowed


def test_other_practice_cannot_see_or_run_sunrise_jobs(world, client_for, patients):
    job = run_file(world, FILES / "claims.csv", dry_run=True)
    client = client_for(world.mia)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.post(f"/imports/{job.pk}/run/").status_code == 404
    page = client.get("/imports/")  # her own practice's page
    assert page.status_code == 200 and b"Maple" in page.content
    assert b"claims.csv" not in page.content.split(b"Recent imports")[1]
    with pytest.raises(PermissionDenied):
        services.import_file(
            actor=world.mia,
            practice=world.sunrise,
            content=(FILES / "claims.csv").read_bytes(),
            filename="claims.csv",
        )


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/imports/")
    assert response.status_code == 302 and response["Location"].startswith("/account/login/")


# --- API ----------------------------------------------------------------------------------

API = "/api/v1/imports/"


def test_api_upload_answers_202_and_the_job_completes(world, client_for, patients):
    client = client_for(world.vera)
    response = client.post(
        API,
        {
            "practice": world.sunrise.pk,
            "file": upload(FILES / "claims_pms_headers.csv"),
            "column_mapping": json.dumps(
                {
                    "pms_claim_number": "Claim #",
                    "patient_account": "Acct",
                    "payer_id": "Payer",
                    "member_id": "Member",
                    "provider_npi": "Rendering NPI",
                    "service_date": "DOS",
                    "procedure_code": "Code",
                    "units": "Qty",
                    "charge": "Fee",
                }
            ),
        },
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"{API}{body['id']}/"
    assert (body["status"], body["kind"], body["practice"]) == (
        "pending",
        "csv_claims",
        world.sunrise.pk,
    )

    services.run_import_job(body["id"])

    job = client.get(response["Location"]).json()
    assert (job["status"], job["created_count"], job["total"], job["processed"]) == (
        "done",
        1,
        2,
        2,
    )
    claim = Claim.objects.get(pms_claim_number="C100")
    assert claim.owner == world.vera
    listed = client.get(API).json()["results"]
    assert listed[0]["id"] == body["id"]


def test_api_reports_file_errors_as_400(world, client_for, ref):
    client = client_for(world.bill)
    response = client.post(
        API, {"practice": world.sunrise.pk, "file": upload(FILES / "x.bin", b"\x00\x01")}
    )
    assert response.status_code == 400
    assert "not a text file" in response.json()["file"][0]
    response = client.post(
        API,
        {
            "practice": world.sunrise.pk,
            "file": upload(FILES / "claims.csv"),
            "column_mapping": "[1]",
        },
    )
    assert response.status_code == 400
    assert "column_mapping" in response.json()


@pytest.mark.parametrize("persona", ["vic", "mia"])
def test_api_refuses_practices_without_work_claims(world, client_for, ref, persona):
    job = run_file(world, FILES / "claims_one_bad_row.csv")
    client = client_for(world.users[persona])
    response = client.post(
        API, {"practice": world.sunrise.pk, "file": upload(FILES / "claims.csv")}
    )
    assert response.status_code == 400
    assert "practice" in response.json()
    assert client.get(f"{API}{job.pk}/").status_code == 404
    assert job.pk not in [row["id"] for row in client.get(API).json()["results"]]
    assert ImportJob.objects.count() == 1


def test_api_patients_file_needs_edit_patients(world, client_for, ref):
    patients_before = set(Patient.objects.values_list("pk", flat=True))
    response = client_for(world.vera).post(
        API, {"practice": world.sunrise.pk, "file": upload(FILES / "patients.csv")}
    )
    assert response.status_code == 404  # like every refused write of the API
    # Refused means nothing happened: no job queued, no patient added.
    assert not ImportJob.objects.exists()
    assert set(Patient.objects.values_list("pk", flat=True)) == patients_before


# --- a real worker ----------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_celery_worker_runs_the_queued_import(world, ref, worker):
    from tests.celery_worker import wait_until

    with transaction.atomic():
        job = services.import_file(
            actor=world.bill,
            practice=world.sunrise,
            content=MIXED.read_bytes(),
            filename=MIXED.name,
        )
    assert wait_until(
        lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE, timeout=60
    ), ImportJob.objects.get(pk=job.pk).errors
    job.refresh_from_db()
    assert (job.created_count, job.processed, job.total) == (6, 6, 6)
    assert Claim.objects.filter(pms_claim_number__startswith="PCN").count() == 6


# --- issue 7: an import keeps every fact of the file and says what it changed ----------------


def run_maple(world: Any, name: str, **kwargs: Any) -> ImportJob:
    """An 837P of tests/claims/import_files into Maple (medical), as its manager mia."""
    return run_file(world, FILES / name, user=world.mia, practice=world.maple, **kwargs)


def maple_claims(number: str = "C-500") -> Any:
    return Claim.objects.filter(practice__slug="maple", pms_claim_number=number)


def test_same_number_same_content_is_skipped(world):
    assert run_maple(world, "p_original.837").created_count == 1
    again = run_maple(world, "p_original.837")
    counts = (again.created_count, again.updated_count, again.skipped_count, again.conflict_count)
    assert counts == (0, 0, 1, 0), again.errors
    assert maple_claims().count() == 1


def test_same_number_different_content_is_a_conflict_counted_in_the_exit_code(world):
    run_maple(world, "p_original.837")
    claim = maple_claims().get()
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 claim\\(s\\) on file conflict") as info:
        call_command(
            "import_claims",
            str(FILES / "p_changed.837"),
            "--practice=maple",
            "--as=mia",
            stdout=out,
        )
    assert info.value.returncode == 2
    text = out.getvalue()
    assert "created 0, updated 0, skipped 0, rejected 0, conflicts 1" in text
    assert f"conflict: claim C-500: differs from claim #{claim.pk} on file" in text
    assert "total 600.00 → 650.00" in text and "line(s) 2 differ" in text
    claim.refresh_from_db()
    assert claim.total_billed == Decimal("600.00")  # never silently changed
    job = ImportJob.objects.latest("pk")
    assert (job.status, job.conflict_count) == (ImportStatus.DONE, 1)


def test_replacement_replaces_through_the_services_with_history(world):
    run_maple(world, "p_original.837")
    claim = maple_claims().get()
    job = run_maple(world, "p_replacement.837")
    assert (job.updated_count, job.conflict_count, job.created_count) == (1, 0, 0), job.errors
    claim.refresh_from_db()
    assert claim.total_billed == Decimal("650.00")
    assert claim.lines.get(line_number=2).charge == Decimal("150.00")
    assert claim.history.count() >= 2
    edit = claim.activities.get(kind=ActivityKind.EDIT)
    assert edit.actor == world.mia and "Updated from a PMS import" in edit.text
    assert messages(job, "updated") == [
        f"claim C-500: replaced claim #{claim.pk} (CLM05-3 = 7): total 600.00 → 650.00; "
        "line(s) 2 differ"
    ]


def test_replacement_of_a_submitted_claim_is_a_conflict(world):
    run_maple(world, "p_original.837")
    maple_claims().update(status=ClaimStatus.SUBMITTED)
    job = run_maple(world, "p_replacement.837")
    assert (job.updated_count, job.conflict_count) == (0, 1)
    assert "which is submitted" in messages(job, "conflict")[0]
    assert maple_claims().get().total_billed == Decimal("600.00")


def test_void_voids_the_claim(world):
    run_maple(world, "p_original.837")
    job = run_maple(world, "p_void.837")
    assert (job.updated_count, job.conflict_count) == (1, 0), job.errors
    claim = maple_claims().get()
    assert claim.status == ClaimStatus.VOID
    assert claim.activities.get(kind=ActivityKind.STATUS).actor == world.mia
    again = run_maple(world, "p_void.837")
    assert messages(again, "skipped") == ["claim C-500: already void; not changed"]


def test_same_number_to_another_payer_is_a_separate_secondary_claim(world):
    run_maple(world, "p_original.837")
    job = run_maple(world, "p_secondary.837")
    assert (job.created_count, job.conflict_count) == (1, 0), job.errors
    primary, secondary = maple_claims().order_by("coverage__cob_order")
    assert (primary.payer.payer_id, secondary.payer.payer_id) == ("60054", "00431")
    assert secondary.coverage.cob_order == 2
    assert secondary.other_payer_paid == Decimal("420.00")
    assert any("imported as a separate claim to payer 00431" in n for n in messages(job, "note"))


def test_primary_claim_without_other_payer_payment_keeps_it_empty(world):
    run_maple(world, "p_original.837")  # names the secondary payer in 2320, no AMT*D
    assert maple_claims().get().other_payer_paid is None


def test_changed_member_id_is_reported_with_before_and_after(world):
    run_maple(world, "p_original.837")
    job = run_maple(world, "p_member_changed.837")
    assert job.status == ImportStatus.DONE, job.errors
    assert job.updated_count == 1
    (entry,) = [e for e in job.errors if e["level"] == "updated"]
    assert entry["changes"] == {
        "member_id": ["W123456789", "W999999999"],
        "group_number": ["GRP7788", "GRP9900"],
    }
    assert "(used by 1 claim(s) on file)" in entry["message"]
    assert "member id 'W123456789' → 'W999999999'" in entry["message"]


def test_line_date_range_and_unit_basis_are_kept(world):
    run_maple(world, "p_original.837")
    anesthesia, therapy = maple_claims().get().lines.all()
    assert (anesthesia.units, anesthesia.unit_basis) == (Decimal("45"), "MJ")
    assert (therapy.service_date, therapy.service_date_to) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 1, 12),
    )
    assert anesthesia.service_date_to is None


def test_every_tooth_of_a_line_is_kept_and_shown(world, client_for):
    job = run_file(world, FILES / "d_five_teeth.837")
    assert job.created_count == 1, job.errors
    claim = Claim.objects.get(pms_claim_number="SD-3001")
    line = claim.lines.get()
    assert line.teeth == [
        {"tooth": "31", "surfaces": ""},
        {"tooth": "30", "surfaces": ""},
        {"tooth": "21", "surfaces": "MO"},
        {"tooth": "19", "surfaces": ""},
        {"tooth": "18", "surfaces": "DOL"},
    ]
    assert (line.tooth, line.surfaces) == ("31", "")
    page = in_sunrise(client_for(world.bill), world).get(f"/claims/{claim.pk}/")
    assert page.status_code == 200
    assert "31, 30, 21 MO, 19, 18 DOL" in page.content.decode()


def test_encounter_file_is_refused(world):
    job = run_maple(world, "p_encounter.837")
    assert job.status == ImportStatus.FAILED
    assert "encounter report (BHT06 = RP)" in messages(job)[0]
    assert not maple_claims().exists()


def test_every_problem_of_a_file_is_reported_with_its_segment(world):
    job = run_maple(world, "p_many_problems.837")
    assert job.status == ImportStatus.FAILED
    assert messages(job) == [
        "segment 7 (NM1): NM101 (entity identifier code) 'XQ' is not an 837 entity identifier code",
        "segment 14 (SBR): SBR01 (payer responsibility sequence code) 'Z' is not a payer "
        "responsibility code (A-H, P, S, T or U)",
        "segment 15 (NM1): NM102 (entity type qualifier) is required but empty",
        "segment 16 (N4): N4 is out of order: it must follow the N3 of its loop, not NM1",
        "segment 17 (N3): N3 is out of order: the N4 of its loop must follow it, not DMG",
        "segment 20 (CLM): CLM05 (health care service location information) is required but empty",
    ]
    assert not maple_claims().exists()


def test_file_starting_with_gs_says_missing_isa(world):
    job = run_maple(world, "gs_first.837")
    assert (job.kind, job.status) == (ImportKind.X12_837, ImportStatus.FAILED)
    (message,) = messages(job)
    assert message.startswith("segment 1 (ISA): missing ISA")


def test_wrong_kind_of_file_for_the_practice_warns(world):
    job = run_file(world, FILES / "p_original.837")  # 837P into Sunrise Dental
    assert job.status == ImportStatus.DONE, job.errors
    assert messages(job, "warning") == [
        "this is an 837P file and Sunrise Dental is a dental practice: check that the file "
        "is for this practice"
    ]
    assert not messages(run_maple(world, "p_secondary.837"), "warning")


def test_import_page_shows_conflicts_and_changes(world, client_for):
    run_maple(world, "p_original.837")
    conflict = run_maple(world, "p_changed.837")
    client = client_for(world.mia)
    session = client.session
    session["practice_id"] = world.maple.pk
    session.save()
    page = client.get(f"/imports/{conflict.pk}/").content.decode()
    assert 'id="job-conflicts"' in page and "total 600.00 → 650.00" in page


def test_predetermination_is_a_pre_treatment_estimate_not_a_claim(world):
    job = run_file(world, FILES / "d_predetermination.837")
    assert (job.status, job.created_count) == (ImportStatus.DONE, 1), job.errors
    assert not Claim.objects.filter(pms_claim_number="SD-4001").exists()  # not billed, no A/R
    estimate = Estimate.objects.get(pms_claim_number="SD-4001")
    assert (estimate.status, estimate.total_billed) == ("requested", Decimal("1500.00"))
    assert [line["procedure_code"] for line in estimate.lines] == ["D2740", "D2950"]
    assert estimate.lines[0]["teeth"] == [{"tooth": "8", "surfaces": ""}]
    assert estimate.history.get().history_user == world.bill
    assert any("pre-treatment estimate" in n for n in messages(job, "note"))
    again = run_file(world, FILES / "d_predetermination.837")
    assert (again.created_count, again.skipped_count) == (0, 1)


def test_replacement_naming_another_patient_is_a_conflict(world):
    run_maple(world, "p_original.837")
    text = (FILES / "p_replacement.837").read_text()
    other = text.replace("NM1*IL*1*DOE*JANE****MI*W123456789", "NM1*IL*1*DOE*JOHN****MI*W123456789")
    job = run(world, other, user=world.mia, practice=world.maple, filename="other.837")
    assert (job.updated_count, job.conflict_count) == (0, 1), job.errors
    assert "names another patient" in messages(job, "conflict")[0]
    assert maple_claims().get().total_billed == Decimal("600.00")
