"""Domain records are read-only in the admin, even for a superuser: their writes belong to
the services (practices/admin.py, claims/admin.py). Posting the change form, the history
"revert" form or the delete form leaves the row as it was."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from claims import services as claim_services
from claims.choices import NextAction
from tests import factories


def _payer(world: Any) -> models.Model:
    return factories.PayerFactory(practice=world.sunrise, name="Delta Dental")


def _patient(world: Any) -> models.Model:
    return world.sunrise_patient


def _claim(world: Any) -> models.Model:
    coverage = world.sunrise_patient.coverages.select_related("payer").get()
    today = timezone.localdate()
    return claim_services.claim_create(
        actor=world.bill,
        patient=world.sunrise_patient,
        coverage=coverage,
        provider=factories.ProviderFactory(practice=world.sunrise),
        pms_claim_number="ADMIN-1",
        service_date_from=today - dt.timedelta(days=10),
        lines=[{"procedure_code": "D1110", "charge": Decimal("120.00")}],
        owner=world.bill,
        next_action=NextAction.CORRECT_AND_RESUBMIT,
        next_action_due=today,
    )


# name: (make the row, admin URL prefix, the change a POST tries to make)
CASES: dict[str, tuple[Callable[[Any], models.Model], str, dict[str, Any]]] = {
    "payer": (_payer, "/admin/practices/payer", {"name": "Renamed", "timely_filing_days": 1}),
    "patient": (_patient, "/admin/practices/patient", {"last_name": "Renamed"}),
    "claim": (_claim, "/admin/claims/claim", {"status": "paid", "pms_claim_number": "EDITED"}),
}


def _form_data(obj: models.Model, **changes: Any) -> dict[str, Any]:
    """What the admin's change form would post for ``obj``, with ``changes`` applied: a
    complete, valid form, so only the refusal keeps the row from changing."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if not field.editable or field.primary_key:
            continue
        value = changes.get(field.name, field.value_from_object(obj))
        if isinstance(field, models.JSONField):
            data[field.name] = json.dumps(value)
        elif isinstance(field, models.DateTimeField):
            data[f"{field.name}_0"] = value.date().isoformat() if value else ""
            data[f"{field.name}_1"] = value.time().isoformat() if value else ""
        elif isinstance(field, models.BooleanField) and field.null:
            data[field.name] = {None: "unknown", True: "true", False: "false"}[value]
        elif isinstance(field, models.BooleanField):
            if value:
                data[field.name] = "on"
        else:
            data[field.name] = "" if value is None else value
    return data


def _state(obj: models.Model) -> dict[str, Any]:
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture(params=list(CASES))
def case(request: Any, world: Any) -> tuple[models.Model, str, dict[str, Any]]:
    make, prefix, changes = CASES[request.param]
    return make(world), prefix, changes


def test_the_superuser_may_look(root, case):
    obj, prefix, _changes = case

    assert root.get(f"{prefix}/").status_code == 200
    page = root.get(f"{prefix}/{obj.pk}/change/")

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert root.get(f"{prefix}/{obj.pk}/history/").status_code == 200


def test_posting_the_change_form_changes_nothing(root, case):
    obj, prefix, changes = case
    before = _state(obj)
    history = obj.history.count()

    response = root.post(f"{prefix}/{obj.pk}/change/", _form_data(obj, **changes))

    assert response.status_code == 403
    assert _state(obj) == before
    assert obj.history.count() == history


def test_posting_the_history_revert_form_changes_nothing(root, case):
    # simple_history's revert form saves with only the view permission checked.
    obj, prefix, changes = case
    before = _state(obj)
    version = obj.history.latest("history_date").history_id
    history = obj.history.count()

    response = root.post(f"{prefix}/{obj.pk}/history/{version}/", _form_data(obj, **changes))

    assert response.status_code == 403
    assert _state(obj) == before
    assert obj.history.count() == history


def test_no_adding_or_deleting(root, case):
    obj, prefix, _changes = case
    model = type(obj)
    count = model._default_manager.count()

    assert root.get(f"{prefix}/add/").status_code == 403
    assert root.post(f"{prefix}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = root.post(
        f"{prefix}/", {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )

    assert bulk.status_code in (200, 302)
    assert model._default_manager.count() == count
