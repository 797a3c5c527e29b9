"""Escalations: routing (owner, backup when away), one short question, answers on the
claim page, overdue moves to the backup then a manager, exactly once per day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from practices.models import Membership
from sops import escalation_services as services
from sops.choices import EscalationStage, EscalationStatus
from sops.escalation_models import Escalation
from tests.claims import conftest as claim_fixtures
from tests.conftest import login
from tests.sops import scene
from work.models import Notification

pytestmark = pytest.mark.django_db
make_claim = claim_fixtures.make_claim


@pytest.fixture
def sw(world: Any, make_claim: Any) -> Any:
    scene.build(world)
    world.claim = make_claim()
    return world


def raise_one(w: Any, **overrides: Any) -> Escalation:
    fields: dict[str, Any] = {
        "actor": w.vera,
        "subject_type": "claim",
        "subject_id": w.claim.pk,
        "function_kind": "claim_follow_up",
        "question": "Did the patient have other coverage on the date of service?",
        "deadline": timezone.localdate() + dt.timedelta(days=2),
    }
    fields.update(overrides)
    return services.escalation_raise(**fields)


def test_goes_to_the_owner_and_to_the_backup_when_the_owner_is_away(sw):
    assert raise_one(sw).owner == sw.bill
    Membership.objects.filter(user=sw.bill, practice=sw.sunrise).update(
        away_until=timezone.localdate() + dt.timedelta(days=5)
    )
    assert raise_one(sw).owner == sw.vera  # the function's backup


def test_exactly_one_short_question_and_a_deadline_or_patient_impact(sw):
    with pytest.raises(ValidationError) as exc:
        raise_one(sw, question="Who? And when?")
    assert "question" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        raise_one(sw, deadline=None)
    assert "deadline" in exc.value.message_dict
    with pytest.raises(ValidationError):
        raise_one(sw, question="x" * 201)
    impact = raise_one(sw, deadline=None, patient_impact="Surgery on Friday needs the auth")
    assert impact.next_action_due == timezone.localdate() and impact.priority > 500
    routine = raise_one(sw, deadline=None, is_routine=True, question="Which fax for Aetna?")
    assert routine.deadline is None and routine.is_routine
    assert Escalation.objects.count() == 2


def test_items_the_actor_cannot_see_cannot_be_escalated(sw):
    with pytest.raises(ValidationError):
        raise_one(sw, actor=sw.fran)  # front desk does not work claims
    with pytest.raises(ValidationError):
        raise_one(sw, actor=sw.mia)
    assert not Escalation.objects.exists()


def test_answer_closes_it_tells_the_asker_and_shows_on_the_claim(sw, client):
    escalation = raise_one(sw)
    with pytest.raises(PermissionDenied):
        services.escalation_answer(actor=sw.fran, escalation=escalation, answer="Yes")
    services.escalation_answer(actor=sw.bill, escalation=escalation, answer="Yes, Cigna.")
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.ANSWERED and escalation.answered_by == sw.bill
    assert escalation.next_action == "" and escalation.next_action_due is None
    assert Notification.objects.filter(user=sw.vera, item_type="escalation").exists()
    login(client, sw.vera)
    page = client.get(f"/claims/{sw.claim.pk}/")
    assert page.status_code == 200
    assert "Yes, Cigna." in page.text and "escalations-panel" in page.text


def test_overdue_goes_to_the_backup_then_a_manager_once_a_day(sw):
    escalation = raise_one(sw)
    later = escalation.next_action_due + dt.timedelta(days=1)
    assert services.reroute_overdue(later) == {"backup": 1, "manager": 0, "stuck": 0}
    assert services.reroute_overdue(later) == {"backup": 0, "manager": 0, "stuck": 0}
    escalation.refresh_from_db()
    assert (escalation.owner, escalation.stage) == (sw.vera, EscalationStage.BACKUP)
    even_later = later + dt.timedelta(days=2)
    assert services.reroute_overdue(even_later)["manager"] == 1
    escalation.refresh_from_db()
    assert (escalation.owner, escalation.stage) == (sw.sam, EscalationStage.MANAGER)
    assert services.reroute_overdue(even_later + dt.timedelta(days=5))["manager"] == 0
    told = Notification.objects.filter(item_type="escalation", item_id=escalation.pk)
    assert set(told.values_list("user__username", flat=True)) == {"vera", "sam"}


def test_routine_questions_are_never_rerouted(sw):
    routine = raise_one(sw, deadline=None, is_routine=True, question="Which fax for Aetna?")
    far = timezone.localdate() + dt.timedelta(days=60)
    assert services.reroute_overdue(far) == {"backup": 0, "manager": 0, "stuck": 0}
    routine.refresh_from_db()
    assert routine.owner == sw.bill
