"""The bulk posting path (``ar.bulk_posting``) stores exactly what the row-by-row path
stores: the same file is posted both ways from the same database state (each inside a
savepoint rolled back after its snapshot) and every row of the claims, work, remittance and
denial tables is compared, ids and timestamps aside."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ar import bulk_posting, services
from ar.choices import RemittanceStatus
from ar.matching import plan_payments
from ar.models import ClaimPayment, Remittance, ServiceLinePayment
from ar.x12_835_fast import parse_835
from claims.models import Claim
from denials.models import Denial
from practices.models import FeeScheduleLine
from tests import factories
from tests.ar.test_x12_835 import era

D = Decimal
APPS = ("ar", "claims", "denials", "work")
BY_SEGMENT = {ClaimPayment, ServiceLinePayment}


def mixed_file() -> str:
    """Plain payments (bulk) next to every kind the row path keeps (ours, written here)."""
    body = [
        "N1*PR*EXAMPLE HEALTH PLAN",
        "N1*PE*SUNRISE DENTAL*XX*1234567893",
        "LX*1",
        # plain: paid with a contractual reduction, two lines of the same code
        "CLP*BK1*1*200*160**12*P1",
        "NM1*QC*1*ALPHA*ANN****MI*M1",
        "MOA***MA01",
        "SVC*HC:D1110*100*80**1",
        "DTM*472*20260105",
        "CAS*CO*45*20",
        "SVC*HC:D1110*100*80**1",
        "DTM*472*20260105",
        "CAS*CO*45*20",
        "LQ*HE*N130",
        # plain: patient share, claim held by the biller (accepted already)
        "CLP*BK2*1*150*100*50*12*P2",
        "SVC*HC:D0120*150*100**1",
        "CAS*PR*2*50",
        # plain: a fee schedule line exists, paid at it
        "CLP*BK3*1*90*70**12*P3",
        "SVC*HC:D0274*90*70**1",
        "CAS*CO*45*20",
        # row path: underpaid against the fee schedule
        "CLP*BK4*1*120*50**12*P4",
        "SVC*HC:D0330*120*50**1",
        "CAS*CO*45*70",
        # row path: denied
        "CLP*BK5*4*300*0**12*P5",
        "SVC*HC:D2740*300*0**1",
        "CAS*CO*50*300",
        # row path: partially paid
        "CLP*BK6*1*200*100**12*P6",
        "SVC*HC:D1351*200*100**1",
        "CAS*CO*97*100",
        # row path: the patient has a secondary coverage
        "CLP*BK7*1*80*80**12*P7",
        "SVC*HC:D1206*80*80**1",
        # row path: no such claim
        "CLP*NOPE*1*50*50**12*P8",
        "SVC*HC:D1206*50*50**1",
        "PLB*1234567893*20261231*L6:INT*-1.00",
    ]
    return era(body, "611.00", trace="BULK-1")


def make_claims(world: Any, make_claim: Any, payer: Any) -> dict[str, Any]:
    made = {
        "BK1": make_claim("BK1", "Alpha", [("D1110", "100.00"), ("D1110", "100.00")]),
        "BK2": make_claim("BK2", "Bravo", [("D0120", "150.00")], status="accepted"),
        "BK3": make_claim("BK3", "Charlie", [("D0274", "90.00")]),
        "BK4": make_claim("BK4", "Delta", [("D0330", "120.00")]),
        "BK5": make_claim("BK5", "Echo", [("D2740", "300.00")]),
        "BK6": make_claim("BK6", "Foxtrot", [("D1351", "200.00")]),
        "BK7": make_claim("BK7", "Golf", [("D1206", "80.00")]),
    }
    Claim.objects.filter(pk=made["BK2"].pk).update(
        locked_by=world.bill, locked_until=timezone.now() + dt.timedelta(minutes=30)
    )
    for code, fee in (("D0274", "70.00"), ("D0330", "100.00")):
        FeeScheduleLine.objects.create(
            practice=world.sunrise,
            payer=payer,
            procedure_code=code,
            allowed_amount=D(fee),
            effective_from=dt.date(2020, 1, 1),
        )
    second = factories.PayerFactory(practice=world.sunrise, name="Second Plan")
    factories.CoverageFactory(patient=made["BK7"].patient, payer=second, cob_order=2)
    return made


def _models() -> list[type[models.Model]]:
    return [m for label in APPS for m in apps.get_app_config(label).get_models()]


def snapshot(before: dict[type[models.Model], int], batch: Remittance) -> dict[str, Any]:
    """Every row of the apps' tables, normalized: ids of rows written by the run replaced by
    stable keys (payments and lines by segment, others by creation rank), timestamps
    dropped, the batch's id in texts and data replaced."""
    keys: dict[type[models.Model], dict[Any, Any]] = {}
    for model in _models():
        new = model._default_manager.filter(pk__gt=before[model]).order_by("pk")
        if model in BY_SEGMENT:
            keys[model] = {pk: ("seg", seg) for pk, seg in new.values_list("pk", "segment")}
        else:
            keys[model] = {
                pk: ("new", rank) for rank, pk in enumerate(new.values_list("pk", flat=True))
            }
    payments = keys[ClaimPayment]
    denials = {f"D-{pk}": f"D-{key}" for pk, key in keys[Denial].items()}  # "denial D-12"

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            value = re.sub(r"D-\d+", lambda m: denials.get(m.group(0), m.group(0)), value)
            value = re.sub(
                r"claim payment (\d+)",
                lambda m: f"claim payment {payments.get(int(m.group(1)), m.group(1))}",
                value,
            )
            return value.replace(f"remittance {batch.pk}", "remittance R")
        if isinstance(value, dict):
            out = dict(value)
            if "remittance" in out:
                out["remittance"] = "R" if out["remittance"] == batch.pk else out["remittance"]
            if "claim_payment" in out:
                out["claim_payment"] = payments.get(out["claim_payment"], out["claim_payment"])
            return {k: norm(v) for k, v in out.items()}
        return value

    result = {}
    for model in _models():
        rows = []
        for obj in model._default_manager.all():
            row = {}
            for field in model._meta.concrete_fields:
                if field.primary_key or isinstance(field, models.DateTimeField | models.FileField):
                    continue
                value = getattr(obj, field.attname)
                target = field.related_model if field.is_relation else None
                if field.attname == "id" and hasattr(model, "instance_type"):
                    target = model.instance_type  # a history row names its row by id
                if target in keys and value is not None:
                    value = keys[target].get(value, value)  # type: ignore[index]
                row[field.attname] = norm(value)
            if model in BY_SEGMENT:
                row["_key"] = keys[model].get(obj.pk)
            rows.append(repr(sorted(row.items())))
        result[model._meta.label] = sorted(rows)
    return result


def post_and_snapshot(world: Any, text: str, *, bulk: bool) -> tuple[Remittance, dict[str, Any]]:
    before = {m: m._default_manager.aggregate(top=models.Max("pk"))["top"] or 0 for m in _models()}
    savepoint = transaction.savepoint_create()
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="era.835",
        enqueue=False,
    )
    with CaptureQueriesContext(connection) as queries:
        batch = services.remittance_run(batch.pk, bulk=bulk)
    assert batch is not None
    shot = snapshot(before, batch)
    shot["_queries"] = len(queries)
    transaction.savepoint_rollback(savepoint)
    return batch, shot


def test_the_bulk_path_stores_what_the_row_path_stores(world, make_claim, payer):
    make_claims(world, make_claim, payer)
    text = mixed_file()

    row_batch, by_row = post_and_snapshot(world, text, bulk=False)
    bulk_batch, by_bulk = post_and_snapshot(world, text, bulk=True)

    assert (row_batch.status, row_batch.posted_count, row_batch.unmatched_count) == (
        RemittanceStatus.POSTED,
        7,
        1,
    )
    assert (bulk_batch.posted_count, bulk_batch.unmatched_count) == (7, 1)
    row_queries, bulk_queries = by_row.pop("_queries"), by_bulk.pop("_queries")
    for label in by_row:
        only_bulk = [r for r in by_bulk[label] if r not in by_row[label]]
        only_row = [r for r in by_row[label] if r not in by_bulk[label]]
        assert by_bulk[label] == by_row[label], (label, only_bulk, only_row)
    # The file did reach every kind of row, and the bulk path did the plain part in bulk.
    counts = {label: len(rows) for label, rows in by_bulk.items()}
    assert counts["ar.ClaimPayment"] == 8 and counts["denials.Denial"] >= 2
    assert counts["ar.Underpayment"] == 1 and counts["ar.UnmatchedRemittance"] == 1
    assert bulk_queries < row_queries


def test_plain_payments_are_split_off_and_the_rest_stays_row_by_row(world, make_claim, payer):
    made = make_claims(world, make_claim, payer)
    plans = plan_payments(world.sunrise.pk, "1417776310", parse_835(mixed_file()).claims)
    plain, rest = bulk_posting.split(plans)
    assert sorted(p.parsed.patient_control_number for p in plain) == ["BK1", "BK2", "BK3"]
    assert [p.parsed.patient_control_number for p in rest] == ["BK4", "BK5", "BK6", "BK7", "NOPE"]

    services_batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=mixed_file().encode(),
        filename="era.835",
        enqueue=False,
    )
    services.remittance_run(services_batch.pk)
    held = Claim.objects.get(pk=made["BK2"].pk)
    # The hold is released, the claim is paid with its history naming the biller.
    assert (held.status, held.locked_by, held.total_paid) == ("paid", None, D("100.00"))
    last = held.history.order_by("-history_date", "-history_id").first()
    assert (last.history_type, last.history_user, last.status) == ("~", world.bill, "paid")
    first = Claim.objects.get(pk=made["BK1"].pk)
    # One timeline entry says the moves, the payment and the next action.
    (entry,) = first.activities.filter(data__source="payment")
    assert (entry.kind, entry.data["from"], entry.data["via"], entry.data["to"]) == (
        "status",
        "submitted",
        ["accepted"],
        "paid",
    )
    assert "Payment posted: allowed" in entry.text and "Next: Post and close" in entry.text
    lines = ServiceLinePayment.objects.filter(payment__claim=first).order_by("segment")
    assert [line.claim_line.line_number for line in lines] == [1, 2]


def test_a_claim_that_cannot_take_the_payment_refuses_the_whole_batch(world, make_claim, payer):
    made = make_claims(world, make_claim, payer)
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=mixed_file().encode(),
        filename="era.835",
        enqueue=False,
    )
    plans = plan_payments(world.sunrise.pk, "1417776310", parse_835(mixed_file()).claims)
    plain, _ = bulk_posting.split(plans)
    # Between matching and posting, a plain payment's claim was closed by somebody else.
    Claim.objects.filter(pk=made["BK1"].pk).update(status="closed")
    with (
        pytest.raises(ValidationError, match="cannot be posted to a closed claim"),
        transaction.atomic(),
    ):
        bulk_posting.post_plain(batch, plain, world.bill)
    assert not ClaimPayment.objects.exists()
    assert Claim.objects.get(pk=made["BK2"].pk).status == "accepted"
