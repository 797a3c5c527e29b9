"""The bulk path of claim imports (issue 7, speed): new claims, patients and coverages are
written in chunks with bulk INSERTs, and every rule of the one-by-one services still holds:
history and timeline rows naming the actor, the owner check, the next-action invariant,
priorities, unique numbers; the queries per chunk do not grow with the claims in it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.bulk import clean_new_fields
from claims import bulk, services
from claims.bulk import NewClaim, build_lines_bulk, claims_create_bulk
from claims.choices import ActivityKind, ImportStatus, NextAction
from claims.imports import services as imports
from claims.imports import x12_bulk
from claims.models import Claim, ClaimActivity, ClaimLine
from practices.bulk import coverages_create_bulk, patients_create_bulk
from practices.choices import ClaimFormat
from practices.models import Coverage, Patient
from tests import factories

NPI = "1245319599"
BORN = dt.date(1950, 1, 1)
CODES = [("99213", "95.00"), ("85025", "32.50"), ("36415", "12.00")]


def x12_837p(claims: int, *, first: int = 1, same_patient: bool = False) -> bytes:
    """An 837P of ``claims`` claims (3 lines each), each with a new patient unless
    ``same_patient``; one payer (ACME, 60054) and one rendering NPI."""
    body = [
        "ST*837*0001*005010X222A1~",
        "BHT*0019*00*T1*20260115*0930*CH~",
        "NM1*41*2*TEST MEDICAL*****46*T01~",
        "PER*IC*BILLING*TE*5555550100~",
        "NM1*40*2*CLEARINGHOUSE*****46*CH0001~",
        "HL*1**20*1~",
        f"NM1*85*2*TEST MEDICAL*****XX*{NPI}~",
        "N3*100 MAIN ST~",
        "N4*SPRINGFIELD*IL*62701~",
        "REF*EI*371234567~",
    ]
    for n in range(first, first + claims):
        who = 1 if same_patient else n
        body += [
            f"HL*{n + 1}*1*22*0~",
            "SBR*P*18*GRP100******CI~",
            f"NM1*IL*1*PATIENT{who:05d}*TEST****MI*M{who:08d}~",
            "N3*1 ELM ST~",
            "N4*SPRINGFIELD*IL*62704~",
            f"DMG*D8*{19500101 + who % 28}*F~",
            "NM1*PR*2*ACME HEALTH*****PI*60054~",
            f"CLM*B{n:06d}*139.50***11:B:1*Y*A*Y*Y~",
            "HI*ABK:J069~",
            f"NM1*82*1*DOC*TOR****XX*{NPI}~",
        ]
        for k, (code, charge) in enumerate(CODES, start=1):
            body += [f"LX*{k}~", f"SV1*HC:{code}*{charge}*UN*1***1~", "DTP*472*D8*20260105~"]
    body.append(f"SE*{len(body) + 1}*0001~")
    isa = (
        "ISA*00*          *00*          *ZZ*TEST           *ZZ*CLEARINGHOUSE  *260115*0930*^"
        "*00501*000000001*0*T*:~"
    )
    gs = "GS*HC*TEST*CLEARINGHOUSE*20260115*0930*1*X*005010X222A1~"
    return ("\n".join([isa, gs, *body, "GE*1*1~", "IEA*1*000000001~"]) + "\n").encode()


@pytest.fixture
def maple(world: Any) -> dict[str, Any]:
    """Maple's payer and provider as the generated files name them; mia (manager) imports."""
    return {
        "payer": factories.PayerFactory(
            practice=world.maple,
            payer_id="60054",
            name="ACME HEALTH",
            claim_format=ClaimFormat.PROFESSIONAL,
            timely_filing_days=90,
        ),
        "provider": factories.ProviderFactory(practice=world.maple, npi=NPI),
    }


def run(world: Any, content: bytes, **kwargs: Any) -> Any:
    job = imports.import_file(
        actor=world.mia,
        practice=world.maple,
        content=content,
        filename="batch.837",
        enqueue=False,
        **kwargs,
    )
    return imports.run_import_job(job.pk)


# --- the import ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bulk_import_keeps_history_timeline_owner_next_action_and_priority(
    world: Any, maple: dict[str, Any]
) -> None:
    job = run(world, x12_837p(4))

    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 4, 0)
    claims = list(Claim.objects.filter(practice=world.maple).order_by("pms_claim_number"))
    assert [c.pms_claim_number for c in claims] == ["B000001", "B000002", "B000003", "B000004"]
    today = timezone.localdate()
    for claim in claims:
        # Owner and next action: the importer's, checked by the work core's invariant.
        assert (claim.owner, claim.next_action, claim.next_action_due) == (
            world.mia,
            NextAction.PREPARE_AND_SUBMIT,
            today,
        )
        assert claim.version == 1
        rank = claim.compute_priority(today)
        assert (claim.priority, claim.priority_reasons) == (rank.score, list(rank.reasons))
        assert claim.total_billed == Decimal("139.50")
        assert claim.timely_filing_deadline == dt.date(2026, 1, 5) + dt.timedelta(days=90)
        assert claim.coverage.patient_id == claim.patient_id
        # History: one "+" row naming the actor, holding what was stored.
        (history,) = claim.history.all()
        assert (history.history_type, history.history_user) == ("+", world.mia)
        assert (history.total_billed, history.owner_id, history.status) == (
            claim.total_billed,
            world.mia.pk,
            claim.status,
        )
        lines = list(claim.lines.order_by("line_number"))
        assert [(line.procedure_code, line.charge) for line in lines] == [
            (code, Decimal(charge)) for code, charge in CODES
        ]
        for line in lines:
            assert [(h.history_type, h.history_user) for h in line.history.all()] == [
                ("+", world.mia)
            ]
        (activity,) = ClaimActivity.objects.filter(claim=claim)
        assert (activity.kind, activity.actor, activity.text) == (
            ActivityKind.CREATED,
            world.mia,
            "Created with 3 line(s).",
        )
        patient, coverage = claim.patient, claim.coverage
        assert [(h.history_type, h.history_user) for h in patient.history.all()] == [
            ("+", world.mia)
        ]
        assert [(h.history_type, h.history_user) for h in coverage.history.all()] == [
            ("+", world.mia)
        ]
        assert (coverage.member_id, coverage.group_number, coverage.cob_order) == (
            f"M{int(patient.last_name[-5:]):08d}",
            "GRP100",
            1,
        )
    notes = [e["message"] for e in job.errors if e["level"] == "note"]
    assert sum(n.startswith("added patient PATIENT") for n in notes) == 4
    assert sum(n.startswith("added primary coverage with 60054") for n in notes) == 4


@pytest.mark.django_db
def test_the_same_new_patient_twice_in_a_file_is_one_patient_with_one_coverage(
    world: Any, maple: dict[str, Any]
) -> None:
    job = run(world, x12_837p(3, same_patient=True))

    assert (job.status, job.created_count) == (ImportStatus.DONE, 3)
    patients = Patient.objects.filter(practice=world.maple, first_name="TEST")
    assert patients.count() == 1
    assert Coverage.objects.filter(patient__in=patients).count() == 1
    assert Claim.objects.filter(patient__in=patients).count() == 3


@pytest.mark.django_db
def test_a_re_import_matches_the_patients_and_skips_the_claims(
    world: Any, maple: dict[str, Any]
) -> None:
    run(world, x12_837p(3))
    again = run(world, x12_837p(5))  # the same three claims, and two more

    assert (again.created_count, again.skipped_count) == (2, 3)
    assert Patient.objects.filter(practice=world.maple, first_name="TEST").count() == 5
    assert Claim.objects.filter(practice=world.maple).count() == 5


@pytest.mark.django_db
def test_a_default_owner_who_cannot_work_claims_rejects_the_file(
    world: Any, maple: dict[str, Any]
) -> None:
    job = imports.import_file(
        actor=world.mia, practice=world.maple, content=x12_837p(3), filename="b.837", enqueue=False
    )
    done = imports.run_import_job(job.pk, default_owner_id=world.bill.pk)  # Sunrise's biller

    assert done.status == ImportStatus.FAILED
    owner_errors = [e for e in done.errors if e.get("field") == "owner"]
    assert [e["claim"] for e in owner_errors] == ["B000001", "B000002", "B000003"]
    assert not Claim.objects.filter(practice=world.maple).exists()
    assert not Patient.objects.filter(practice=world.maple, first_name="TEST").exists()


@pytest.mark.django_db
def test_queries_per_chunk_do_not_grow_with_the_claims(
    world: Any, maple: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def queries(content: bytes) -> int:
        job = imports.import_file(
            actor=world.mia, practice=world.maple, content=content, filename="q.837", enqueue=False
        )
        with CaptureQueriesContext(connection) as captured:
            done = imports.run_import_job(job.pk)
        assert done.status == ImportStatus.DONE
        return len(captured)

    few = queries(x12_837p(3, first=1))
    many = queries(x12_837p(30, first=101))
    assert many == few  # one chunk each: the same queries for 3 claims as for 30

    monkeypatch.setattr(x12_bulk, "CHUNK", 10)
    one = queries(x12_837p(10, first=201))
    two = queries(x12_837p(20, first=301))
    three = queries(x12_837p(30, first=401))
    assert one == few
    per_chunk = two - one
    assert three - two == per_chunk  # each chunk of 10 claims costs the same queries
    assert 0 < per_chunk <= 30  # patients, coverages, claims, lines, timeline, history


# --- the services -------------------------------------------------------------------------


def _new(world: Any, maple: dict[str, Any], number: str, **overrides: Any) -> NewClaim:
    patient = overrides.pop("patient", None) or factories.PatientFactory(practice=world.maple)
    coverage = overrides.pop("coverage", None) or factories.CoverageFactory(
        patient=patient, payer=maple["payer"]
    )
    fields: dict[str, Any] = {
        "patient": patient,
        "coverage": coverage,
        "provider": maple["provider"],
        "pms_claim_number": number,
        "service_date_from": dt.date(2026, 1, 5),
        "lines": [{"procedure_code": "99213", "charge": Decimal("95.00")}],
    }
    fields.update(overrides)
    return NewClaim(**fields)


def _create(world: Any, news: list[NewClaim], **overrides: Any) -> bulk.Created:
    kwargs: dict[str, Any] = {
        "actor": world.mia,
        "practice": world.maple,
        "claims": news,
        "owner": world.mia,
        "next_action": NextAction.CORRECT_AND_RESUBMIT,
        "next_action_due": timezone.localdate(),
    }
    kwargs.update(overrides)
    return claims_create_bulk(**kwargs)


@pytest.mark.django_db
def test_bulk_claims_refuse_an_actor_without_the_permission(
    world: Any, maple: dict[str, Any]
) -> None:
    with pytest.raises(PermissionDenied):
        _create(world, [_new(world, maple, "P1")], actor=world.bill)
    assert not Claim.objects.filter(practice=world.maple).exists()


@pytest.mark.django_db
def test_bulk_claims_refuse_an_owner_who_cannot_work_claims_there(
    world: Any, maple: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(world, [_new(world, maple, "O1")], owner=world.bill)
    assert "owner" in exc.value.message_dict
    assert not Claim.objects.filter(practice=world.maple).exists()


@pytest.mark.django_db
def test_bulk_claims_keep_the_next_action_invariant_row_by_row(
    world: Any, maple: dict[str, Any]
) -> None:
    news = [_new(world, maple, "W1"), _new(world, maple, "W2")]
    result = _create(world, news, next_action="wait", wait_reason="")

    assert result.claims == []
    assert sorted(result.errors) == [0, 1]
    assert "wait_reason" in result.errors[0].message_dict
    assert not Claim.objects.filter(practice=world.maple).exists()


@pytest.mark.django_db
def test_bulk_claims_report_bad_rows_and_write_the_good_ones(
    world: Any, maple: dict[str, Any]
) -> None:
    on_file = _new(world, maple, "D1")
    _create(world, [on_file])
    foreign = factories.PatientFactory(practice=world.sunrise)
    news = [
        _new(world, maple, "D1", patient=on_file.patient, coverage=on_file.coverage),  # on file
        _new(world, maple, "OK1"),
        _new(world, maple, "OK1"),  # twice in the call (another patient, same payer)
        _new(world, maple, "X" * 41),  # too long
        _new(world, maple, "F1", coverage=factories.CoverageFactory(patient=foreign)),
        _new(world, maple, "L1", lines=[{"procedure_code": "99213", "charge": "abc"}]),
        _new(
            world,
            maple,
            "L2",
            lines=[
                {"line_number": 1, "procedure_code": "99213", "charge": 1},
                {"line_number": 1, "procedure_code": "99214", "charge": 2},
            ],
        ),
    ]
    result = _create(world, news)

    assert [c.pms_claim_number for c in result.claims] == ["OK1"]
    assert sorted(result.errors) == [0, 2, 3, 4, 5, 6]
    assert "pms_claim_number" in result.errors[0].message_dict
    assert "pms_claim_number" in result.errors[2].message_dict
    assert "pms_claim_number" in result.errors[3].message_dict
    assert "coverage" in result.errors[4].message_dict
    assert "lines[1].charge" in result.errors[5].message_dict
    assert "lines" in result.errors[6].message_dict
    assert sorted(
        Claim.objects.filter(practice=world.maple).values_list("pms_claim_number", flat=True)
    ) == ["D1", "OK1"]


@pytest.mark.django_db
def test_bulk_claims_are_the_claims_claim_create_makes(world: Any, maple: dict[str, Any]) -> None:
    spec = {
        "service_date_from": dt.date(2026, 1, 5),
        "service_date_to": dt.date(2026, 1, 7),
        "diagnosis_codes": ["J069", "R05"],
        "lines": [
            {"procedure_code": "99213", "charge": Decimal("95.00"), "modifiers": ["25"]},
            {"procedure_code": "85025", "charge": "32.5", "units": "2", "diagnosis_pointers": [2]},
        ],
        "other_payer_paid": Decimal("10.00"),
    }
    one = _new(world, maple, "S1", **spec)
    (made,) = _create(world, [one]).claims
    other = _new(world, maple, "S2", **spec)
    single = services.claim_create(
        actor=world.mia,
        patient=other.patient,
        coverage=other.coverage,
        provider=other.provider,
        pms_claim_number="S2",
        owner=world.mia,
        next_action=NextAction.CORRECT_AND_RESUBMIT,
        next_action_due=timezone.localdate(),
        **spec,
    )

    def facts(claim: Claim) -> dict[str, Any]:
        claim.refresh_from_db()
        skip = {"id", "pms_claim_number", "patient", "coverage", "created_at", "updated_at"}
        values = {
            f.attname: getattr(claim, f.attname)
            for f in Claim._meta.concrete_fields
            if f.name not in skip and f.attname not in {"patient_id", "coverage_id"}
        }
        values["lines"] = [
            {
                f.attname: getattr(line, f.attname)
                for f in ClaimLine._meta.concrete_fields
                if f.name not in {"id", "claim"}
            }
            for line in claim.lines.order_by("line_number")
        ]
        values["history"] = [(h.history_type, h.history_user_id) for h in claim.history.all()]
        values["activity"] = [(a.kind, a.actor_id, a.text) for a in claim.activities.all()]
        return values

    assert facts(made) == facts(single)


# --- the row checks agree with Django's ------------------------------------------------------


LINE_SPECS: list[list[dict[str, Any]]] = [
    [{"procedure_code": " d2391 ", "charge": "120", "teeth": [{"tooth": "3", "surfaces": "mo"}]}],
    [{"procedure_code": "99213", "charge": "abc"}],
    [{"procedure_code": "X" * 11, "charge": "1"}],
    [{"procedure_code": "99213", "charge": "1", "diagnosis_pointers": ["x"]}],
    [{"procedure_code": "99213", "charge": "1", "units": "123456789"}],
    [{"procedure_code": "99213", "charge": "1", "unit_basis": "ZZ"}],
    [{"procedure_code": "", "charge": "1"}],
    [{"procedure_code": "99213", "charge": "1", "teeth": [{"tooth": "12345"}]}],
    [
        {
            "procedure_code": "99213",
            "charge": "1",
            "service_date": dt.date(2026, 1, 5),
            "service_date_to": dt.date(2026, 1, 4),
        }
    ],
    [{"procedure_code": "99213", "charge": "1", "service_date": "2026-01-05"}],
    [],
]


@pytest.mark.parametrize("specs", LINE_SPECS)
def test_build_lines_bulk_answers_as_build_lines(specs: list[dict[str, Any]]) -> None:
    def outcome(build: Any) -> Any:
        try:
            lines = build(specs)
        except ValidationError as exc:
            return exc.message_dict
        return [
            {f.attname: getattr(line, f.attname) for f in ClaimLine._meta.concrete_fields}
            for line in lines
        ]

    assert outcome(build_lines_bulk) == outcome(services.build_lines)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"account_number": "A" * 41},
        {"first_name": ""},
        {"email": "not an address"},
        {"state": "ILL"},
        {"date_of_birth": "1950-01-02"},
        {"date_of_birth": None},
    ],
)
def test_clean_new_fields_answers_as_clean_fields(world: Any, fields: dict[str, Any]) -> None:
    def patient() -> Patient:
        values: dict[str, Any] = {
            "practice": world.maple,
            "account_number": "A1",
            "first_name": "Ann",
            "last_name": "Lee",
            "date_of_birth": dt.date(1950, 1, 2),
        }
        values.update(fields)
        return Patient(**values)

    def outcome(clean: Any) -> Any:
        row = patient()
        try:
            clean(row)
        except ValidationError as exc:
            return exc.message_dict
        return {f.attname: getattr(row, f.attname) for f in Patient._meta.concrete_fields}

    assert outcome(lambda row: clean_new_fields(row, ["practice"])) == outcome(
        lambda row: row.clean_fields(exclude=["practice"])
    )


@pytest.mark.django_db
def test_bulk_patients_and_coverages_keep_their_rules(world: Any, maple: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        patients_create_bulk(actor=world.bill, practice=world.maple, patients=[Patient()])
    written = patients_create_bulk(
        actor=world.mia,
        practice=world.maple,
        patients=[
            Patient(
                account_number="N1",
                first_name="A",
                last_name="B",
                date_of_birth=dt.date(1950, 1, 1),
            ),
            Patient(
                account_number="N1",
                first_name="C",
                last_name="D",
                date_of_birth=dt.date(1950, 1, 1),
            ),
            Patient(
                account_number="N2", first_name="", last_name="D", date_of_birth=dt.date(1950, 1, 1)
            ),
        ],
    )
    assert [p.account_number for p in written.created] == ["N1"]
    assert sorted(written.errors) == [1, 2]
    (patient,) = written.created
    other_payer = factories.PayerFactory(practice=world.sunrise)
    covered = coverages_create_bulk(
        actor=world.mia,
        coverages=[
            Coverage(patient=patient, payer=maple["payer"], cob_order=1, subscriber_name="A B"),
            Coverage(patient=patient, payer=maple["payer"], cob_order=1, subscriber_name="A B"),
            Coverage(patient=patient, payer=other_payer, cob_order=2, subscriber_name="A B"),
        ],
    )
    assert [c.cob_order for c in covered.created] == [1]
    assert sorted(covered.errors) == [1, 2]
    assert "payer" in covered.errors[2].message_dict
    assert [(h.history_type, h.history_user) for h in patient.history.all()] == [("+", world.mia)]
    assert [(h.history_type, h.history_user) for h in covered.created[0].history.all()] == [
        ("+", world.mia)
    ]
