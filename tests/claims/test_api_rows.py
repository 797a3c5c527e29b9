"""The claim list's fast paths answer what the plain ones answer (issue 10):

- its rows (``claims.api.rows``, ``ClaimListSerializer(many=True)``) are the DRF
  serializer's dicts, key for key and byte for byte as JSON, on varied claims (odd names,
  no owner, an owner without a name, closed and rejected claims, undated next actions,
  money with thousands), loaded with the list's columns only and without a query;
- a list request asking only for a queue (``filters.queue_only``) narrows the claims by
  ``claims_in_queue`` with the same SQL as the filterset, for every queue and every kind
  of user.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory, force_authenticate

from billing_ops.filters import ScopedFilterBackend
from claims import services
from claims.api import rows
from claims.api.claims import ClaimViewSet
from claims.api.filters import queue_only
from claims.api.serializers import ClaimDetailSerializer, ClaimListSerializer, ClaimRowsSerializer
from claims.choices import ClaimStatus, NextAction
from claims.models import Claim
from claims.queues import API_QUEUES, claims_in_queue
from tests import factories

CLAIMS = "/api/v1/claims/"


def _varied_claims(world: Any, make_claim: Any) -> list[Claim]:
    today = timezone.localdate()
    odd = factories.PatientFactory(
        practice=world.sunrise, last_name="O'Brien <b> \u00e9", first_name='A&B "q"'
    )
    claims = [
        make_claim(),
        make_claim(patient=odd, next_action_due=today - dt.timedelta(days=3)),
        make_claim(lines=[{"procedure_code": "D2391", "charge": Decimal("12345.67")}]),
        make_claim(owner=world.sam, service_date_from=today + dt.timedelta(days=2)),
        make_claim(),
        make_claim(status=ClaimStatus.REJECTED),
        make_claim(status=ClaimStatus.SUBMITTED, next_action=NextAction.CALL_PAYER),
        make_claim(deadline=today + dt.timedelta(days=20)),
    ]
    voided = make_claim()
    services.claim_transition(actor=world.bill, claim=voided, to_status=ClaimStatus.VOID)
    claims.append(voided)
    Claim.objects.filter(pk=claims[1].pk).update(
        wait_reason="Waiting on the payer's <reply> & more",
        total_paid=Decimal("100.50"),
        total_adjusted=Decimal("0.25"),
        total_allowed=Decimal("1000000.00"),
        patient_responsibility=Decimal("-3.10"),
        follow_up_count=7,
    )
    Claim.objects.filter(pk=claims[2].pk).update(  # balance 0, undated
        total_paid=Decimal("99999.00"), next_action_due=None
    )
    # What the services never leave on an open claim, but a row must still show.
    Claim.objects.filter(pk=claims[4].pk).update(owner=None, next_action="", next_action_due=None)
    get_user_model().objects.filter(pk=world.sam.pk).update(first_name="", last_name="")
    return claims


def _list_claims(pks: list[int]) -> list[Claim]:
    """The claims as the list loads them: its joins, only its columns."""
    loaded = (
        Claim.objects.select_related("patient", "payer", "owner")
        .only(*rows.LIST_COLUMNS)
        .in_bulk(pks)
    )
    return [loaded[pk] for pk in pks]


def _plain(claims: list[Claim]) -> list[dict[str, Any]]:
    """DRF's own list serializer over the DRF serializer: the reference."""
    return list(serializers.ListSerializer(child=ClaimListSerializer(), instance=claims).data)


def test_rows_are_the_serializers_rows(world, make_claim):
    pks = [claim.pk for claim in _varied_claims(world, make_claim)]
    full = [Claim.objects.select_related("patient", "payer", "owner").get(pk=pk) for pk in pks]
    reference = _plain(full)

    claims = _list_claims(pks)
    with CaptureQueriesContext(connection) as during:
        fast = ClaimListSerializer(claims, many=True).data
        plain = _plain(claims)

    assert isinstance(ClaimListSerializer(claims, many=True), ClaimRowsSerializer)
    assert len(during) == 0, [q["sql"] for q in during]  # every column read is loaded
    assert [list(row) for row in fast] == [list(ClaimListSerializer.Meta.fields)] * len(pks)
    assert list(fast) == plain == reference
    render = JSONRenderer().render
    assert render(fast) == render(plain) == render(reference)
    # What the claims cover: the cases the fast builder handles apart.
    assert {row["owner_name"] for row in fast} >= {None, "sam", f"Test {world.bill.last_name}"}
    assert {row["next_action_due"] for row in fast} >= {None}
    assert {row["status"] for row in fast} >= {"draft", "rejected", "submitted", "void"}
    assert "" in {row["next_action"] for row in fast}
    assert "-3.10" in {row["patient_responsibility"] for row in fast}


def test_rows_of_unsaved_values_are_the_serializers_rows(world, make_claim):
    """Values the database never returns (an enum member, amounts of other precision, a
    float) still answer what DRF answers: the fast builder hands them to the DRF field."""
    (claim,) = _list_claims([make_claim().pk])
    claim.status = ClaimStatus.PAID
    claim.next_action = NextAction.CALL_PAYER
    claim.total_billed = Decimal("1234.5")
    claim.total_allowed = Decimal("12.345")
    claim.total_paid = Decimal("1E+1")
    claim.patient_responsibility = 7

    assert ClaimListSerializer([claim], many=True).data == _plain([claim])
    assert JSONRenderer().render(ClaimListSerializer([claim], many=True).data) == (
        JSONRenderer().render(_plain([claim]))
    )


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.00"),
        Decimal("-0.00"),
        Decimal("1234567890.12"),
        Decimal("12.3"),
        Decimal("1.005"),
        Decimal("2.675"),
        Decimal("5"),
        Decimal("1E+2"),
        7,
        0.1,
        "3.456",
        None,
    ],
)
def test_money_is_the_decimal_fields(value):
    field = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    expected = None if value is None else field.to_representation(value)
    assert rows._money(value) == expected


def test_the_detail_serializer_keeps_drfs_rows(world, make_claim):
    """``ClaimDetailSerializer`` inherits the list serializer class: its rows are its own."""
    claim = Claim.objects.get(pk=make_claim().pk)
    many = ClaimDetailSerializer([claim], many=True).data
    assert list(many) == [ClaimDetailSerializer(claim).data]
    assert "lines" in many[0]


def test_the_list_answers_the_serializers_rows(world, make_claim, client_for):
    pks = {claim.pk for claim in _varied_claims(world, make_claim)}
    client = client_for(world.bill)
    for slug in (None, *API_QUEUES):
        response = client.get(CLAIMS, {"queue": slug} if slug else {})
        assert response.status_code == 200
        results = response.json()["results"]
        listed = [row["id"] for row in results]
        assert set(listed) <= pks
        full = Claim.objects.select_related("patient", "payer", "owner").in_bulk(listed)
        expected = _plain([full[pk] for pk in listed])
        assert results == expected, slug
        assert response.content.endswith(b'"results":' + JSONRenderer().render(expected) + b"}")


# --- queue only -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("queue=my-day", "my-day"),
        ("queue=payer-ar&cursor=abc&page_size=3", "payer-ar"),
        ("page_size=3&queue=unassigned", "unassigned"),
        ("", None),
        ("cursor=abc", None),
        ("queue=", None),
        ("queue=nope", None),
        ("queue=null", None),
        ("queue=my-day&queue=rejections", None),
        ("queue=my-day&status=draft", None),
        ("queue=all-open&format=json", None),
        ("queue=all-open&owner=", None),
    ],
)
def test_queue_only(query, slug):
    assert queue_only(QueryDict(query)) == slug


def _view(user: Any, query: dict[str, Any]) -> ClaimViewSet:
    request = APIRequestFactory().get(CLAIMS, query)
    force_authenticate(request, user)
    view = ClaimViewSet(action_map={"get": "list"})
    view.setup(request)
    view.request = view.initialize_request(request)
    view.action = "list"
    view.format_kwarg = None
    return view


def _sql(queryset: Any) -> str:
    try:
        return str(queryset.query)
    except EmptyResultSet:  # a user who works no practice: nothing to select
        return "(empty)"


@pytest.mark.parametrize("who", ["bill", "sam", "vera", "val", "mia", "fran", "vic"])
def test_a_queue_alone_narrows_as_the_filterset_does(world, make_claim, who):
    """``ClaimViewSet.list`` narrows a queue-only request by ``claims_in_queue`` alone."""
    _varied_claims(world, make_claim)
    factories.PatientFactory(practice=world.maple)
    user = world.users[who]
    today = timezone.localdate()
    for slug in API_QUEUES:
        view = _view(user, {"queue": slug})
        queryset = view.get_queryset()
        fast = claims_in_queue(slug, user, queryset, today)
        plain = queryset
        for backend in view.filter_backends:  # what the viewset is configured with
            plain = backend().filter_queryset(view.request, plain, view)

        assert _sql(fast) == _sql(plain), (who, slug)
        assert list(fast.order_by("pk")) == list(plain.order_by("pk")), (who, slug)


def test_a_list_with_another_filter_backend_goes_through_them_all(
    world, make_claim, client_for, monkeypatch
):
    """The queue-only fast path stands for the filterset's backend alone (first reviewer):
    with another backend configured, a ``?queue=`` list runs every backend."""
    from claims.api.claims import ClaimViewSet

    make_claim()
    seen = []

    class Noting(ScopedFilterBackend):
        def filter_queryset(self, request, queryset, view):
            seen.append(request.query_params.get("queue"))
            return super().filter_queryset(request, queryset, view)

    client = client_for(world.bill)
    fast = client.get("/api/v1/claims/", {"queue": "all-open"}).json()
    assert seen == []
    monkeypatch.setattr(ClaimViewSet, "filter_backends", [ScopedFilterBackend, Noting])
    slow = client.get("/api/v1/claims/", {"queue": "all-open"}).json()
    assert seen == ["all-open"]
    assert [row["id"] for row in slow["results"]] == [row["id"] for row in fast["results"]]
