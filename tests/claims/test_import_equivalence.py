"""Issue 7, speed: the bulk path of an 837 import (``claims.imports.x12_bulk``) writes what
the one-by-one path (``X12Import.apply``, every claim through ``claim_create``) writes.

One mixed 837D (new patients, existing patients, a replacement, a void, a conflict, a
secondary claim, a line with five teeth, an undated draft, a predetermination) is imported
after the same first file into two practices, once through each path; every row that
matters is compared after mapping ids to what they name: patients, coverages, claims and
their lines, estimates, history rows (type and actor), timeline entries, work-item fields
and the import's result (entries and records)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from claims.choices import ImportStatus
from claims.imports import services as imports
from claims.imports import x12_bulk
from claims.models import Claim, ClaimActivity, ClaimLine, Estimate, ImportJob
from practices import services as practice_services
from practices.choices import ClaimFormat, Role
from practices.models import Coverage, Patient
from tests import factories

BILLING_NPI, RENDERING_NPI = "1730000008", "1649999995"


def _claim(
    number: str,
    patient: tuple[str, str, str, str],
    lines: list[tuple[str, str, list[str]]],
    *,
    freq: str = "1",
    payer: tuple[str, str] = ("DELTA TEETH", "DT001"),
    order: str = "P",
    dated: bool = True,
    estimate: bool = False,
    ref: str = "",
    other_paid: str = "",
) -> list[str]:
    last, first, born, member = patient
    total = sum(float(charge) for _, charge, _ in lines)
    segments = [
        f"SBR*{order}*18*DG100******CI",
        f"NM1*IL*1*{last}*{first}****MI*{member}",
        f"DMG*D8*{born}*F",
        f"NM1*PR*2*{payer[0]}*****PI*{payer[1]}",
        f"CLM*{number}*{total:.2f}***11:B:{freq}*Y*A*Y*Y" + ("**********PB" if estimate else ""),
    ]
    if dated:
        segments.append("DTP*472*D8*20260105")
    if ref:
        segments.append(f"REF*F8*{ref}")
    segments.append(f"NM1*82*1*PARK*HANNAH****XX*{RENDERING_NPI}")
    if other_paid:
        segments += [
            "SBR*P*18*DG100******CI",
            f"AMT*D*{other_paid}",
            "OI***Y***Y",
            f"NM1*IL*1*{last}*{first}****MI*{member}",
            "NM1*PR*2*DELTA TEETH*****PI*DT001",
        ]
    for n, (code, charge, teeth) in enumerate(lines, start=1):
        segments += [f"LX*{n}", f"SV3*AD:{code}*{charge}****1"]
        segments += [f"TOO*JP*{tooth}" for tooth in teeth]
    return segments


def x12_837d(*claims: list[str]) -> bytes:
    body = [
        "ST*837*0001*005010X224A2",
        "BHT*0019*00*EQ1*20260115*0930*CH",
        "NM1*41*2*EQUIVALENCE DENTAL*****46*EQ01",
        "PER*IC*BILLING*TE*5555550100",
        "NM1*40*2*CLEARINGHOUSE*****46*CH0001",
        "HL*1**20*1",
        f"NM1*85*2*EQUIVALENCE DENTAL*****XX*{BILLING_NPI}",
        "N3*9 SMILE WAY",
        "N4*PORTLAND*OR*97201",
        "REF*EI*931112222",
    ]
    for n, segments in enumerate(claims, start=2):
        body += [f"HL*{n}*1*22*0", *segments]
    body.append(f"SE*{len(body) + 1}*0001")
    isa = (
        "ISA*00*          *00*          *ZZ*EQUIVALENCE    *ZZ*CLEARINGHOUSE  *260115*0930*^"
        "*00501*000000801*0*T*:"
    )
    gs = "GS*HC*EQUIVALENCE*CLEARINGHOUSE*20260115*0930*801*X*005010X224A2"
    return ("~\n".join([isa, gs, *body, "GE*1*801", "IEA*1*000000801"]) + "~\n").encode()


LEE = ("LEE", "MORGAN", "19900312", "DEN445566")
RUIZ = ("RUIZ", "ANA", "19751102", "DEN778899")
KIM = ("KIM", "JOON", "20010630", "DEN112233")
OKAFOR = ("OKAFOR", "CHIDI", "19680214", "DEN556677")
NOVAK = ("NOVAK", "EVA", "19821225", "DEN990011")
FIRST = x12_837d(
    _claim("E-100", LEE, [("D2740", "1200.00", ["8"])]),
    _claim("E-200", RUIZ, [("D1110", "95.00", [])]),
    _claim("E-300", LEE, [("D0120", "55.00", [])]),
    _claim("E-600", RUIZ, [("D2391", "180.00", ["3"])]),
)
MIXED = x12_837d(
    # a replacement with a new total, a void, a conflict (another total, not a replacement)
    _claim("E-100", LEE, [("D2740", "1250.00", ["8"])], freq="7", ref="ICN100"),
    _claim("E-200", RUIZ, [("D1110", "95.00", [])], freq="8", ref="ICN200"),
    _claim("E-300", LEE, [("D0120", "65.00", [])]),
    # existing patients: a new claim for each
    _claim("E-400", LEE, [("D0150", "80.00", []), ("D0210", "120.00", [])]),
    # a secondary claim: the number on file for DT001, now to DT002 after DT001 paid
    _claim(
        "E-600",
        RUIZ,
        [("D2391", "180.00", ["3"])],
        payer=("GUM MUTUAL", "DT002"),
        order="S",
        other_paid="120.00",
    ),
    # new patients: five teeth on one line, the same new patient twice, an undated draft,
    # a predetermination (an estimate)
    _claim("E-500", KIM, [("D5213", "1400.00", ["31", "30", "21", "19", "18"])]),
    _claim("E-501", KIM, [("D1110", "95.00", [])]),
    _claim("E-700", OKAFOR, [("D2950", "300.00", ["14"])], dated=False),
    _claim("E-800", NOVAK, [("D2740", "1200.00", ["8"])], estimate=True),
    _claim("E-900", NOVAK, [("D0150", "80.00", [])]),
    # in the file twice: identical (imported once), then different (a conflict)
    _claim("E-900", NOVAK, [("D0150", "80.00", [])]),
    _claim("E-900", NOVAK, [("D0150", "85.00", [])]),
)


def _practice(slug: str, manager: Any) -> Any:
    practice = factories.PracticeFactory(name=f"Equivalence {slug}", slug=slug, kind="dental")
    practice_services.membership_set(
        actor=None, user=manager, practice=practice, role=Role.PRACTICE_MANAGER
    )
    factories.PayerFactory(
        practice=practice,
        payer_id="DT001",
        name="DELTA TEETH",
        claim_format=ClaimFormat.DENTAL,
        timely_filing_days=180,
    )
    factories.ProviderFactory(practice=practice, npi=RENDERING_NPI)
    return practice


def _run(practice: Any, actor: Any, content: bytes) -> ImportJob:
    job = imports.import_file(
        actor=actor, practice=practice, content=content, filename="mixed.837", enqueue=False
    )
    done = imports.run_import_job(job.pk)
    assert done is not None and done.status == ImportStatus.DONE, done and done.errors
    return done


def _names(practice: Any) -> dict[str, str]:
    """'claim #<id>' / 'estimate #<id>' -> what it names (its number and payer)."""
    names = {
        f"claim #{c.pk}": f"claim {c.pms_claim_number}/{c.payer.payer_id}"
        for c in Claim.objects.filter(practice=practice).select_related("payer")
    }
    for e in Estimate.objects.filter(practice=practice).select_related("payer"):
        names[f"estimate #{e.pk}"] = f"estimate {e.pms_claim_number}/{e.payer.payer_id}"
    return names


def _text(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        value = re.sub(r"(claim|estimate) #\d+", lambda m: names.get(m.group(0), "?"), value)
        return re.sub(r"#\d+", "#?", value)
    if isinstance(value, list):
        return [_text(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _text(v, names) for k, v in value.items()}
    return value


def _fields(obj: Any, skip: set[str]) -> dict[str, Any]:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in skip and f.name not in skip
    }


def _history(obj: Any) -> list[tuple[str, Any]]:
    return [(h.history_type, h.history_user_id) for h in obj.history.order_by("history_id")]


def _snapshot(practice: Any, job: ImportJob) -> dict[str, Any]:
    names = _names(practice)
    ids = {"id", "practice", "created_at", "updated_at"}
    patients = {
        p.pk: p.account_number for p in Patient.objects.filter(practice=practice).order_by("pk")
    }
    snapshot: dict[str, Any] = {
        "patients": sorted(
            ((_fields(p, ids), _history(p)) for p in Patient.objects.filter(practice=practice)),
            key=repr,
        ),
        "coverages": sorted(
            (
                (
                    patients[c.patient_id],
                    c.payer.payer_id,
                    _fields(c, ids | {"patient", "payer"}),
                    _history(c),
                )
                for c in Coverage.objects.filter(patient__practice=practice).select_related("payer")
            ),
            key=repr,
        ),
    }
    claims = []
    for claim in Claim.objects.filter(practice=practice).select_related(
        "payer", "provider", "coverage"
    ):
        row = _fields(claim, ids | {"patient", "coverage", "payer", "provider"})
        row["refs"] = (
            patients[claim.patient_id],
            claim.payer.payer_id,
            claim.provider.npi,
            claim.coverage.cob_order,
        )
        row["lines"] = [
            (_fields(line, {"id", "claim"}), _history(line))
            for line in ClaimLine.objects.filter(claim=claim).order_by("line_number")
        ]
        row["history"] = [
            (h.history_type, h.history_user_id, h.status, h.total_billed, h.version)
            for h in claim.history.order_by("history_id")
        ]
        row["timeline"] = [
            _text((a.kind, a.actor_id, a.text), names)
            for a in ClaimActivity.objects.filter(claim=claim).order_by("pk")
        ]
        row["findings"] = sorted(
            claim.findings.values_list("rule", "severity", "message", "line_number")
        )
        claims.append(row)
    snapshot["claims"] = sorted(claims, key=lambda r: (r["pms_claim_number"], r["refs"][1]))
    snapshot["estimates"] = sorted(
        (
            (_fields(e, ids | {"patient", "coverage", "payer", "provider"}), patients[e.patient_id])
            for e in Estimate.objects.filter(practice=practice)
        ),
        key=repr,
    )
    records = [
        _text({k: v for k, v in r.items() if k not in ("id", "patient")}, names)
        for r in job.records
    ]
    snapshot["result"] = {
        "counts": (
            job.status,
            job.total,
            job.created_count,
            job.updated_count,
            job.skipped_count,
            job.rejected_count,
            job.conflict_count,
        ),
        # The same entries; the bulk path lists a chunk's new claims after the voids,
        # replacements and estimates (the one-by-one path: before the estimates).
        "entries": sorted((_text(e, names) for e in job.errors), key=repr),
        "records": sorted(records, key=repr),
    }
    return snapshot


@pytest.mark.django_db
def test_the_bulk_path_writes_what_the_one_by_one_path_writes(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = get_user_model().objects.create_user(username="eq.manager")
    bulk, single = _practice("eq-bulk", manager), _practice("eq-single", manager)
    for practice in (bulk, single):
        # A patient on file before any import (matched by name and date of birth).
        factories.PatientFactory(
            practice=practice,
            account_number="PMS-77",
            first_name="EVA",
            last_name="NOVAK",
            date_of_birth=dt.date(1982, 12, 25),
        )

    results = {}
    for practice in (bulk, single):
        if practice is single:
            monkeypatch.setattr(x12_bulk, "apply", lambda importer: importer.apply())
        _run(practice, manager, FIRST)
        results[practice.pk] = _run(practice, manager, MIXED)

    one, other = _snapshot(bulk, results[bulk.pk]), _snapshot(single, results[single.pk])
    # What the file did, in both: the facts the comparison is about.
    claims = {(c["pms_claim_number"], c["refs"][1]): c for c in one["claims"]}
    assert claims[("E-100", "DT001")]["total_billed"] == 1250
    assert claims[("E-200", "DT001")]["status"] == "void"
    assert claims[("E-300", "DT001")]["total_billed"] == 55  # the conflict left it alone
    assert claims[("E-600", "DT002")]["refs"][3] == 2  # secondary coverage
    assert claims[("E-600", "DT002")]["other_payer_paid"] == 120
    (line,) = claims[("E-500", "DT001")]["lines"]
    assert [t["tooth"] for t in line[0]["teeth"]] == ["31", "30", "21", "19", "18"]
    assert claims[("E-700", "DT001")]["service_date_from"] is None
    assert claims[("E-700", "DT001")]["findings"]
    assert claims[("E-900", "DT001")]["refs"][0] == "PMS-77"  # the patient on file
    assert len(one["estimates"]) == 1
    assert one["result"]["counts"][6] == 2  # E-300 and the second E-900
    assert len(one["claims"]) == 10
    # Every row the same, whichever path wrote it.
    for key in one:
        assert one[key] == other[key], (key, _diff(one[key], other[key]))


def _diff(one: Any, other: Any) -> Any:
    """What only one side has (item by item), to read a failure."""
    if isinstance(one, dict) and isinstance(other, dict):
        return {k: _diff(one.get(k), other.get(k)) for k in one if one.get(k) != other.get(k)}
    if isinstance(one, list) and isinstance(other, list):
        return ([x for x in one if x not in other], [x for x in other if x not in one])
    return (one, other)


@pytest.mark.django_db
def test_sorting_in_chunks_reports_what_one_pass_reports(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claims.imports import x12_import

    manager = get_user_model().objects.create_user(username="eq.chunks")
    practice = _practice("eq-chunks", manager)
    _run(practice, manager, FIRST)
    _run(practice, manager, MIXED)

    def preview() -> list[Any]:
        job = imports.import_file(
            actor=manager,
            practice=practice,
            content=MIXED,
            filename="m.837",
            dry_run=True,
            enqueue=False,
        )
        done = imports.run_import_job(job.pk)
        assert done is not None and done.status == ImportStatus.DONE
        return [
            (e["level"], e.get("claim"), _text(e["message"], _names(practice))) for e in done.errors
        ]

    whole = preview()
    monkeypatch.setattr(x12_import, "SORT_CHUNK", 3)  # duplicates across chunks too
    assert preview() == whole
    assert ("skipped", "E-900", "appears earlier in this file; imported once") in whole
    assert (
        "skipped",
        "E-400",
        "already on file with the same content; not imported again",
    ) in whole


@pytest.mark.django_db
def test_a_re_import_costs_the_same_queries_for_3_claims_as_for_30(world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.claims.test_bulk_import import x12_837p

    factories.PayerFactory(
        practice=world.maple, payer_id="60054", claim_format=ClaimFormat.PROFESSIONAL
    )
    factories.ProviderFactory(practice=world.maple, npi="1245319599")
    counts = []
    for content in (x12_837p(3, first=1), x12_837p(30, first=101)):
        _run(world.maple, world.mia, content)
        job = imports.import_file(
            actor=world.mia,
            practice=world.maple,
            content=content,
            filename="r.837",
            enqueue=False,
        )
        with CaptureQueriesContext(connection) as captured:
            done = imports.run_import_job(job.pk)
        assert done is not None and (done.created_count, done.skipped_count) == (0, done.total)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_an_owner_refused_for_the_chunk_is_reported_once_a_claim_as_one_by_one(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An owner who may not work claims there: every claim is refused, the undated draft
    # (written one by one within its chunk) included, and each is named once.
    manager = get_user_model().objects.create_user(username="eq.manager")
    stranger = get_user_model().objects.create_user(username="eq.stranger")
    content = x12_837d(
        _claim("R-1", LEE, [("D0120", "55.00", [])]),
        _claim("R-2", RUIZ, [("D1110", "95.00", [])], dated=False),
        _claim("R-3", RUIZ, [("D0150", "80.00", [])]),
    )
    entries = {}
    for path in ("bulk", "single"):
        if path == "single":
            monkeypatch.setattr(x12_bulk, "apply", lambda importer: importer.apply())
        practice = _practice(f"eq-owner-{path}", manager)
        job = imports.import_file(
            actor=manager, practice=practice, content=content, filename="o.837", enqueue=False
        )
        done = imports.run_import_job(job.pk, default_owner_id=stranger.pk)
        assert done is not None and done.status == ImportStatus.FAILED
        assert not Claim.objects.filter(practice=practice).exists()
        entries[path] = sorted(
            (e.get("claim") or "", e["level"], e["message"].replace(practice.name, "P"))
            for e in done.errors
        )

    for path in ("bulk", "single"):
        refused = [claim for claim, level, _message in entries[path] if level == "error"]
        assert refused == ["R-1", "R-2", "R-3"], path
    assert entries["bulk"] == entries["single"]
