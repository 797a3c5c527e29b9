"""The remittance pages and API: upload (preview, then post), the batch with its claim
payments, the unmatched payment's search and match, the paper EOB form, escaping."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ar.models import ClaimPayment, Remittance, UnmatchedRemittance
from tests.ar.conftest import sample

BUNDLING = "x12sdk-generated-bundling-denials.835"


def upload(text: str, name: str = "era.835") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def test_upload_page_queues_a_preview_and_refuses_non_x12(world, client_for):
    client = client_for(world.bill)
    response = client.post("/remittances/", {"file": upload(sample(BUNDLING)), "dry_run": "on"})
    batch = Remittance.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/remittances/{batch.pk}/"
    assert (batch.status, batch.dry_run, batch.created_by) == ("pending", True, world.bill)

    bad = client.post("/remittances/", {"file": upload("patient,amount\n")})
    assert bad.status_code == 400
    assert "not an X12 835 file" in bad.content.decode()
    assert Remittance.objects.count() == 1


def test_batch_page_shows_payments_and_posts_a_preview(world, client_for, bundling_claims, post):
    preview = post(sample(BUNDLING), dry_run=True)
    client = client_for(world.bill)
    page = client.get(f"/remittances/{preview.pk}/").content.decode()
    assert "Post this file" in page and "Would post" in page

    response = client.post(f"/remittances/{preview.pk}/run/")
    batch = Remittance.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == f"/remittances/{batch.pk}/"
    assert (batch.dry_run, batch.file_hash) == (False, preview.file_hash)

    posted = post(sample(BUNDLING))
    page = client.get(f"/remittances/{posted.pk}/").content.decode()
    assert "PCN000003" in page and "CO-45 200.00" in page and "PR-2 100.00" in page


def test_refused_file_page_names_the_segment(world, client_for, post):
    batch = post(sample("linuxforhealth-demo-broken-cas.835"))
    page = client_for(world.bill).get(f"/remittances/{batch.pk}/").content.decode()
    assert "segment 27 (CAS_CO): unknown segment id" in page


def test_script_in_imported_fields_is_escaped(world, client_for, post):
    text = (
        sample("x12sdk-generated-paid-in-full.835")
        .replace("N1*PR*PLACEHOLDER HEALTH", "N1*PR*<script>alert(1)</script>")
        .replace("NM1*QC*1*TAYLOR*MARY", "NM1*QC*1*<script>x</script>*MARY")
    )
    batch = post(text)
    client = client_for(world.bill)
    for url in (f"/remittances/{batch.pk}/", "/remittances/"):
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    item = UnmatchedRemittance.objects.get()
    page = client.get(f"/remittances/unmatched/{item.pk}/").content.decode()
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_unmatched_search_and_match_by_hand(world, client_for, make_claim, post):
    make_claim("PCN000001", "Taylor", [("D1110", "999.00")])
    right = make_claim("OTHER-1", "Taylor", [("D1110", "250.00")])
    post(sample("x12sdk-generated-paid-in-full.835"))
    item = UnmatchedRemittance.objects.get()
    client = client_for(world.vera)

    found = client.post(f"/remittances/unmatched/{item.pk}/", {"patient": "tay", "amount": "250"})
    assert [c.pk for c in found.context["candidates"]] == [right.pk]
    response = client.post(
        f"/remittances/unmatched/{item.pk}/match/", {"claim": right.pk, "version": item.version}
    )
    assert response.status_code == 302
    right.refresh_from_db()
    assert (right.status, right.total_paid) == ("paid", Decimal("250.00"))
    stale = client.post(
        f"/remittances/unmatched/{item.pk}/not-ours/", {"note": "x", "version": item.version}
    )
    assert stale.status_code == 409


def test_paper_eob_form(world, client_for, make_claim):
    claim = make_claim("C-EOB", "Taylor", [("D1110", "120.00")])
    client = client_for(world.bill)
    data = {
        "check_number": "55",
        "paid_on": "2026-01-10",
        "paid": "100.00",
        "patient_responsibility": "20.00",
        "group_1": "PR",
        "carc_1": "2",
        "amount_1": "10.00",
    }
    unbalanced = client.post(f"/claims/{claim.pk}/eob/", data)
    assert unbalanced.status_code == 400 and "does not balance" in unbalanced.content.decode()
    response = client.post(f"/claims/{claim.pk}/eob/", {**data, "amount_1": "20.00"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.total_paid, claim.patient_responsibility) == (
        "paid",
        Decimal("100.00"),
        Decimal("20.00"),
    )


def test_api_upload_list_and_detail(world, client_for, bundling_claims, post):
    client = client_for(world.vera)
    response = client.post(
        "/api/v1/remittances/", {"practice": world.sunrise.pk, "file": upload(sample(BUNDLING))}
    )
    assert response.status_code == 202
    queued = Remittance.objects.get()
    assert response["Location"] == f"/api/v1/remittances/{queued.pk}/"
    assert response.json()["status"] == "pending"

    posted = post(sample(BUNDLING))
    listed = client.get("/api/v1/remittances/").json()["results"]
    assert {row["id"] for row in listed} == {queued.pk, posted.pk}
    body = client.get(f"/api/v1/remittances/{posted.pk}/").json()
    assert (body["trace"], body["amount"], body["status"]) == ("9167024630", "1800.00", "posted")
    third = body["payments"][2]
    assert (third["patient_control_number"], third["paid"], third["patient_responsibility"]) == (
        "PCN000003",
        "900.00",
        "100.00",
    )
    assert third["claim"] == bundling_claims[2].pk
    assert [(a["group"], a["reason_code"], a["amount"]) for a in third["adjustments"]] == [
        ("CO", "45", "200.00"),
        ("PR", "2", "100.00"),
    ]
    assert third["lines"][0]["procedure_code"] == "93000"
    # Another practice's user sees none of it.
    other = client_for(world.mia)
    assert other.get(f"/api/v1/remittances/{posted.pk}/").status_code == 404
    assert other.get("/api/v1/remittances/").json()["results"] == []
    assert ClaimPayment.objects.count() == 3
    assert json.loads(json.dumps(body))  # plain JSON


def test_no_move_to_paid_without_amounts(world, client_for, make_claim):
    from claims import services as claim_services

    claim = make_claim("C-NOCLICK", "Taylor", [("D1110", "120.00")], status="accepted")
    client = client_for(world.bill)
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert 'name="to_status" value="paid"' not in page
    assert 'name="to_status" value="partially_paid"' not in page
    assert f"/claims/{claim.pk}/eob/" in page
    body = client.get(f"/api/v1/claims/{claim.pk}/").json()
    assert "paid" not in body["allowed_transitions"]
    assert "denied" in body["allowed_transitions"]
    for status in ("paid", "partially_paid"):
        try:
            claim_services.claim_transition(actor=world.bill, claim=claim, to_status=status)
        except ValidationError as exc:
            assert "only when a payment is posted" in str(exc)
        else:
            raise AssertionError(f"moved to {status} without amounts")
    claim.refresh_from_db()
    assert claim.status == "accepted"


def test_unmatched_payments_show_in_their_queue_and_my_day(world, client_for, post):
    post(sample("x12sdk-generated-paid-in-full.835"))
    item = UnmatchedRemittance.objects.get()
    bill = client_for(world.bill)
    for url in ("/queues/unmatched-remittances/", "/queues/my-day/"):
        response = bill.get(url)
        assert response.status_code == 200, url
        assert f"/remittances/unmatched/{item.pk}/" in response.content.decode(), url
    fran = client_for(world.fran).get("/queues/unmatched-remittances/")
    assert f"/remittances/unmatched/{item.pk}/" not in fran.content.decode()


def test_denial_page_shows_the_remittance_lines(world, client_for, bundling_claims, post):
    from denials.models import Denial

    batch = post(sample(BUNDLING))
    denial = Denial.objects.get(claim=bundling_claims[0])
    page = client_for(world.bill).get(f"/denials/{denial.pk}/").content.decode()
    assert 'id="remittance-lines"' in page
    assert f"/remittances/{batch.pk}/" in page and "CO-97 300.00" in page
    # Another practice's user cannot open the denial (nor its lines).
    assert client_for(world.mia).get(f"/denials/{denial.pk}/").status_code == 404
