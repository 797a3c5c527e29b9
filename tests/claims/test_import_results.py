"""Issue 7, samples paragraph: the import result links to what the import created or changed,
the page reads the result through a selector (problems, conflicts, warnings, changes), and the
API gives the counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from claims.imports import services
from claims.imports.selectors import job_report
from claims.models import Claim, Estimate, ImportJob
from practices.models import Coverage, Patient, Payer, PhiAccessLog, Provider
from tests import factories

FILES = Path(__file__).parent / "import_files"


def run_as(world: Any, user: Any, practice: Any, name: str, **kwargs: Any) -> ImportJob:
    path = FILES / name
    job = services.import_file(
        actor=user, practice=practice, content=path.read_bytes(), filename=name, **kwargs
    )
    ran = services.run_import_job(job.pk)
    assert ran is not None
    return ran


def run_maple(world: Any, name: str, **kwargs: Any) -> ImportJob:
    return run_as(world, world.mia, world.maple, name, **kwargs)


def client_in(client: Any, practice: Any) -> Any:
    session = client.session
    session["practice_id"] = practice.pk
    session.save()
    return client


def kinds(job: ImportJob) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for record in job.records:
        found.setdefault(record["kind"], []).append((record["label"], record["action"]))
    return found


def test_the_result_records_and_links_what_a_new_file_created(world, client_for):
    job = run_maple(world, "p_original.837")
    assert job.created_count == 1, job.errors
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="C-500")
    patient = claim.patient
    payers = Payer.objects.filter(practice=world.maple)
    provider = Provider.objects.get(practice=world.maple, npi="1987654325")
    found = kinds(job)
    assert found["claim"] == [("C-500", "created")]
    assert found["patient"] == [(patient.account_number, "created")]
    assert {label for label, _ in found["coverage"]} == {
        f"{patient.account_number}: {c.get_cob_order_display().lower()} "
        f"{c.payer.payer_id} {c.member_id}"
        for c in Coverage.objects.filter(patient=patient)
    }
    assert sorted(label for label, _ in found["payer"]) == sorted(
        f"{p.name} ({p.payer_id})" for p in payers
    )
    assert ("NPI 1987654325", "created") in found["provider"]

    page = client_in(client_for(world.mia), world.maple).get(f"/imports/{job.pk}/")
    html = page.content.decode()
    assert 'id="job-links"' in html
    assert f'href="/claims/{claim.pk}/"' in html
    assert f'href="/patients/{patient.pk}/"' in html
    assert f'href="/providers/{provider.pk}/"' in html
    for payer in payers:
        assert f'href="/payers/{payer.pk}/"' in html


def test_changes_link_to_the_claim_and_the_coverage_they_changed(world, client_for):
    run_maple(world, "p_original.837")
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="C-500")
    replaced = run_maple(world, "p_replacement.837")
    assert kinds(replaced)["claim"] == [("C-500", "replaced")]
    member = run_maple(world, "p_member_changed.837")
    (coverage,) = [r for r in member.records if r["kind"] == "coverage"]
    assert (coverage["action"], coverage["patient"]) == ("updated", claim.patient_id)
    html = client_in(client_for(world.mia), world.maple).get(f"/imports/{member.pk}/")
    assert f'href="/patients/{claim.patient_id}/"' in html.content.decode()
    assert "(updated)" in html.content.decode()


def test_a_preview_lists_what_it_would_create_without_links(world, client_for):
    job = run_maple(world, "p_original.837", dry_run=True)
    assert not Claim.objects.filter(pms_claim_number="C-500").exists()
    assert ("C-500", "created") in kinds(job)["claim"]
    html = client_in(client_for(world.mia), world.maple).get(f"/imports/{job.pk}/")
    text = html.content.decode()
    assert "What importing it would create or change" in text
    assert 'href="/claims/' not in text


def test_a_rejected_file_records_nothing(world):
    job = run_maple(world, "p_many_problems.837")
    assert job.status == "failed"
    assert job.records == []
    assert len(job_report(job).problems) == 6
    assert job_report(job).links == []


def test_an_estimate_links_to_its_page(world, client_for):
    job = run_as(world, world.bill, world.sunrise, "d_predetermination.837")
    estimate = Estimate.objects.get(pms_claim_number="SD-4001")
    (link,) = [g for g in job_report(job).links if g.kind == "estimate"]
    assert [(x.label, x.url) for x in link.links] == [("SD-4001", f"/estimates/{estimate.pk}/")]
    page = client_in(client_for(world.bill), world.sunrise).get(f"/estimates/{estimate.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "D2740" in html and "D2950" in html and "$1,500.00" in html
    assert PhiAccessLog.objects.filter(
        user=world.bill, patient_id=estimate.patient_id, what="estimate page"
    ).exists()


def test_a_csv_patients_file_links_its_patients(world):
    factories.PayerFactory(practice=world.sunrise, payer_id="DT001")
    factories.PayerFactory(practice=world.sunrise, payer_id="GD555")
    job = run_as(world, world.bill, world.sunrise, "patients.csv")
    assert job.created_count == 3, job.errors
    accounts = {label for label, action in kinds(job)["patient"] if action == "created"}
    assert accounts == set(
        Patient.objects.filter(practice=world.sunrise, account_number__startswith="A1").values_list(
            "account_number", flat=True
        )
    )


def test_the_selector_splits_the_result_and_the_template_reads_only_it(world):
    run_maple(world, "p_original.837")
    conflict = run_maple(world, "p_changed.837")
    report = job_report(conflict)
    assert [e["level"] for e in report.conflicts] == ["conflict"]
    assert report.problems == [] and report.changes == []
    assert report.conflicts[0]["text"].startswith("claim C-500: differs from claim #")
    wrong_kind = run_as(world, world.bill, world.sunrise, "p_original.837")
    assert job_report(wrong_kind).warning_count == 1
    changed = run_maple(world, "p_member_changed.837")
    assert job_report(changed).change_count == 1
    template = Path(settings.BASE_DIR) / "templates" / "claims" / "imports" / "detail.html"
    assert "job.errors" not in template.read_text()


def test_api_gives_conflict_warning_and_change_counts_and_records(world, client_for):
    run_maple(world, "p_original.837")
    conflict = run_maple(world, "p_changed.837")
    member = run_maple(world, "p_member_changed.837")
    client = client_for(world.mia)
    body = client.get(f"/api/v1/imports/{conflict.pk}/").json()
    assert (body["conflict_count"], body["warning_count"], body["change_count"]) == (1, 0, 0)
    body = client.get(f"/api/v1/imports/{member.pk}/").json()
    assert (body["conflict_count"], body["change_count"]) == (0, 1)
    records = {(r["kind"], r["label"], r["action"]) for r in body["records"]}
    assert ("claim", "C-501", "created") in records
    (coverage,) = [r for r in body["records"] if r["kind"] == "coverage"]
    assert coverage["action"] == "updated"
    assert set(coverage) == {"kind", "id", "label", "action"}


def test_links_only_to_pages_the_viewer_may_open(world, client_for):
    job = run_as(world, world.bill, world.sunrise, "d_five_teeth.837")
    assert job.created_count == 1, job.errors
    claim = Claim.objects.get(pms_claim_number="SD-3001")
    payer = claim.payer
    assert ("payer", payer.pk) in {(r["kind"], r["id"]) for r in job.records}
    edit = f'href="/payers/{payer.pk}/"'
    # The manager keeps the payer list; the biller and vendor staff only see its name.
    sam = client_in(client_for(world.sam), world.sunrise).get(f"/imports/{job.pk}/")
    assert edit in sam.content.decode()
    for user in (world.bill, world.vera):
        page = client_in(client_for(user), world.sunrise).get(f"/imports/{job.pk}/")
        html = page.content.decode()
        assert f'href="/claims/{claim.pk}/"' in html
        assert edit not in html and payer.name in html
