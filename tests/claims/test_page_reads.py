"""The claim page's reads compiled once per process (``claims.page_reads``, issue 10,
speed) give the rows of the querysets they replace (``plain=True``): the claim itself
(scoped to the practices where the user works claims), its lines, the last
scrub's findings, the timeline and the attachments as each user may see them (clinical
kinds and entries only with ``view_clinical_attachments``; an attachment entry that does
not say fails closed), and the claim page is the same, byte for byte, for every user of
the shared world (both practices, each role, vendor staff of different scopes)."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from billing_ops.audit import OutOfScope
from claims import attachments, page_reads, views
from claims.choices import ActivityKind, AttachmentKind, ClaimStatus
from claims.models import Claim, ClaimActivity, ScrubFinding
from tests import claim_factory, factories

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")
READS = ("lines", "findings")
USER_READS = ("timeline", "visible_attachments")


def _scene(world: Any, make_claim: Any) -> list[Claim]:
    sent = make_claim(
        status=ClaimStatus.SUBMITTED,
        lines=[
            {"procedure_code": "D2740", "charge": Decimal("1000.00"), "tooth": "30"},
            {"procedure_code": "D0220", "charge": Decimal("35.00")},
            {"procedure_code": "D1110", "charge": Decimal("95.00")},
        ],
    )
    ScrubFinding.objects.create(
        claim=sent, rule="missing_xray", severity="warning", message="Crown <needs> an x-ray."
    )
    ScrubFinding.objects.create(claim=sent, rule="npi", severity="error", message="No NPI.")
    for kind, label in (
        (AttachmentKind.EOB, "EOB & more"),
        (AttachmentKind.XRAY, "x-ray 30"),
        (AttachmentKind.NARRATIVE, "narrative"),
    ):
        attachments.attachment_add(actor=world.bill, claim=sent, kind=kind, label=label)
    # An attachment entry that does not say whether it is clinical: shown only to those
    # who may see clinical ones.
    ClaimActivity.objects.create(
        claim=sent, kind=ActivityKind.ATTACHMENT, actor=world.bill, text="old entry", data={}
    )
    draft = make_claim()  # its findings are scrubbed live, the rest read here
    maple_payer = factories.PayerFactory(practice=world.maple)
    maple = claim_factory.make(
        actor=world.mia,
        patient=world.maple_patient,
        coverage=factories.CoverageFactory(patient=world.maple_patient, payer=maple_payer),
        provider=factories.ProviderFactory(practice=world.maple),
        number="M-00001",
        owner=world.mia,
    )
    return [sent, draft, maple]


def _values(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (type(row), row.pk, {k: v for k, v in vars(row).items() if k != "_state"}) for row in rows
    ]


def test_each_read_gives_the_querysets_rows(world, make_claim):
    claims = _scene(world, make_claim)
    for claim in claims:
        for name in READS:
            read = getattr(page_reads, name)
            fast = read(claim)
            assert _values(fast) == _values(read(claim, plain=True)), (claim.pk, name)
            assert all(row.claim is claim for row in fast), name
        for user_name in USERS:
            user = getattr(world, user_name)
            for name in USER_READS:
                read = getattr(page_reads, name)
                fast = read(user, claim)
                plain = read(user, claim, plain=True)
                assert _values(fast) == _values(plain), (claim.pk, user_name, name)
                assert all(row.claim is claim for row in fast)
    sent = claims[0]
    assert [f.rule for f in page_reads.findings(sent)] == ["npi", "missing_xray"]
    assert len(page_reads.lines(sent)) == 3
    # Clinical kinds and entries for bill, not for vera (vendor staff).
    assert len(page_reads.visible_attachments(world.bill, sent)) == 3
    assert len(page_reads.visible_attachments(world.vera, sent)) == 1
    shown_bill = {a.text for a in page_reads.timeline(world.bill, sent)}
    shown_vera = {a.text for a in page_reads.timeline(world.vera, sent)}
    assert "old entry" in shown_bill and "old entry" not in shown_vera
    assert len(shown_vera) < len(shown_bill)
    # One query each (besides the user's grants, which a request reads once), compiled
    # once per statement.
    with CaptureQueriesContext(connection) as ctx:
        page_reads.lines(sent)
        page_reads.timeline(world.vera, sent)
    rows = [q for q in ctx.captured_queries if "claimline" in q["sql"] or "activity" in q["sql"]]
    assert len(rows) == 2
    compiled = [s for read in page_reads._reads.values() for s in read._statements.values()]
    assert compiled and all(statement.ok for statement in compiled)


def test_the_timeline_keeps_its_newest_entries(world, make_claim):
    claim = _scene(world, make_claim)[0]
    ClaimActivity.objects.bulk_create(
        ClaimActivity(claim=claim, kind=ActivityKind.NOTE, actor=world.bill, text=f"note {i}")
        for i in range(page_reads.TIMELINE + 5)
    )
    for user in (world.bill, world.vera):
        fast = page_reads.timeline(user, claim)
        assert len(fast) == page_reads.TIMELINE
        assert _values(fast) == _values(page_reads.timeline(user, claim, plain=True))


def _pages(client_for: Any, world: Any, claims: list[Claim]) -> dict[Any, tuple[int, str]]:
    seen = {}
    for name in USERS:
        client = client_for(getattr(world, name))
        for claim in claims:
            response = client.get(f"/claims/{claim.pk}/?from=payer-ar")
            body = re.sub(r'value="[^"]{32,}"', "", response.content.decode())
            seen[(name, claim.pk)] = (response.status_code, body)
    return seen


def test_every_users_claim_page_is_the_same_both_ways(world, make_claim, client_for, monkeypatch):
    claims = _scene(world, make_claim)
    fast = _pages(client_for, world, claims)
    for name in (*READS, *USER_READS):
        monkeypatch.setattr(page_reads, name, partial(getattr(page_reads, name), plain=True))
    monkeypatch.setattr(views, "_claim", partial(views._claim, plain=True))
    plain = _pages(client_for, world, claims)
    assert fast == plain
    sent, _draft, maple = claims
    assert fast[("bill", sent.pk)][0] == 200 and "x-ray 30" in fast[("bill", sent.pk)][1]
    assert "Crown &lt;needs&gt; an x-ray." in fast[("bill", sent.pk)][1]
    assert fast[("vera", sent.pk)][0] == 200 and "x-ray 30" not in fast[("vera", sent.pk)][1]
    assert "EOB &amp; more" in fast[("vera", sent.pk)][1]
    assert fast[("mia", maple.pk)][0] == 200
    assert fast[("bill", maple.pk)][0] == 404 and fast[("mia", sent.pk)][0] == 404


def _found(request: Any, pk: int, *, plain: bool) -> Any:
    try:
        claim = views._claim(request, pk, plain=plain)
    except OutOfScope:
        return "out of scope"
    except Http404:
        return "missing"
    related = {
        name: vars(getattr(claim, name))
        for name in page_reads.CLAIM_RELATED
        if getattr(claim, name)
    }
    return _values([claim]), {
        k: {f: v for f, v in d.items() if f != "_state"} for k, d in related.items()
    }


def test_the_claim_is_the_scoped_querysets_for_every_user(world, make_claim, rf):
    """Each user finds the claims of the practices where they work claims, with the same
    related rows; another practice's claim and a missing id are still 404 (the former
    logged as out of scope), through the ORM's queryset as before."""
    claims = _scene(world, make_claim)
    ids = [c.pk for c in claims] + [max(c.pk for c in claims) + 1000, 2**63]
    found = {}
    for name in USERS:
        request = rf.get("/")
        request.user = getattr(world, name)
        for pk in ids:
            fast = _found(request, pk, plain=False)
            assert fast == _found(request, pk, plain=True), (name, pk)
            found[(name, pk)] = fast if isinstance(fast, str) else "found"
    sent, _draft, maple = claims
    assert found[("bill", sent.pk)] == found[("vera", sent.pk)] == "found"
    assert found[("mia", maple.pk)] == "found"
    assert found[("bill", maple.pk)] == found[("mia", sent.pk)] == "out of scope"
    assert found[("fran", sent.pk)] == "out of scope"  # front desk: no work_claims
    assert found[("bill", 2**63)] == "missing"
