"""Payer house rule pages and endpoints through the permission matrix: read by who works
Sunrise's claims (sam, bill, vera, val), kept by its manager (sam); mia keeps Maple's
library only; fran and vic (no claims) see nothing."""

from __future__ import annotations

from typing import Any

from practices.choices import ClaimFormat
from sops import rule_services
from sops.choices import RuleStatus
from sops.rule_models import HouseRule, HouseRuleReview
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

WORKERS = frozenset({"sam", "bill", "vera", "val"})
MANAGERS = frozenset({"sam"})


def build(world: Any) -> None:
    world.payer = factories.PayerFactory(
        practice=world.sunrise, name="Sunrise Delta", claim_format=ClaimFormat.DENTAL
    )
    world.rule = rule_services.house_rule_save(
        actor=world.sam,
        practice=world.sunrise,
        payer=world.payer,
        procedure_pattern="D27*",
        decision="Crowns need a pre-op x-ray.",
    )
    rule_services.open_due_reviews(world.rule.review_due)
    world.review = HouseRuleReview.objects.get(rule=world.rule)


def rule_of(c: Case) -> HouseRule:
    return HouseRule.objects.get(pk=c.world.rule.pk)


def _added(c: Case) -> bool:
    return HouseRule.objects.filter(decision="Matrix decision").exists()


def _new_rule(w: Any) -> dict[str, Any]:
    return {"payer": w.payer.pk, "decision": "Matrix decision", "review_every_days": 91}


class TestPayerRules(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "library",
            "get",
            lambda w: "/sops/payer-rules/",
            WORKERS,
            marker=lambda w: "Crowns need a pre-op x-ray.",
            route="payer-rule-list",
        ),
        Endpoint(
            "add page",
            "get",
            lambda w: "/sops/payer-rules/add/",
            MANAGERS,
            marker=lambda w: "Sunrise Delta",
            route="payer-rule-add",
        ),
        Endpoint(
            "add",
            "post",
            lambda w: "/sops/payer-rules/add/",
            MANAGERS,
            ok_status=302,
            data=_new_rule,
            denied_status={"mia": 400},
            route="payer-rule-add",
            done=_added,
        ),
        Endpoint(
            "edit page",
            "get",
            lambda w: f"/sops/payer-rules/{w.rule.pk}/",
            MANAGERS,
            route="payer-rule-edit",
        ),
        Endpoint(
            "edit",
            "post",
            lambda w: f"/sops/payer-rules/{w.rule.pk}/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {**_new_rule(w), "procedure_pattern": "D27*"},
            route="payer-rule-edit",
            done=lambda c: rule_of(c).decision == "Matrix decision",
        ),
        Endpoint(
            "confirm",
            "post",
            lambda w: f"/sops/payer-rules/{w.rule.pk}/confirm/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {"source": "Call ref 123"},
            route="payer-rule-confirm",
            done=lambda c: rule_of(c).status == RuleStatus.CONFIRMED,
        ),
        Endpoint(
            "reviewed",
            "post",
            lambda w: f"/sops/payer-rules/{w.rule.pk}/reviewed/",
            MANAGERS,
            ok_status=302,
            route="payer-rule-reviewed",
            done=lambda c: rule_of(c).last_reviewed is not None,
        ),
        Endpoint(
            "review item",
            "get",
            lambda w: f"/sops/payer-rules/reviews/{w.review.pk}/",
            MANAGERS,
            ok_status=302,
            route="payer-rule-review",
        ),
        Endpoint(
            "rules api",
            "get",
            lambda w: "/api/v1/payer-rules/",
            WORKERS,
            api=True,
            marker=lambda w: w.rule.pk,
            route="api:api-payer-rule-list",
        ),
        Endpoint(
            "rule api",
            "get",
            lambda w: f"/api/v1/payer-rules/{w.rule.pk}/",
            WORKERS,
            api=True,
            route="api:api-payer-rule-detail",
        ),
        Endpoint(
            "add api",
            "post",
            lambda w: "/api/v1/payer-rules/",
            MANAGERS,
            api=True,
            ok_status=201,
            data=_new_rule,
            denied_status=400,
            route="api:api-payer-rule-list",
            done=_added,
        ),
        Endpoint(
            "confirm api",
            "post",
            lambda w: f"/api/v1/payer-rules/{w.rule.pk}/confirm/",
            MANAGERS,
            api=True,
            data=lambda w: {"source": "Call ref 123"},
            route="api:api-payer-rule-confirm",
            done=lambda c: rule_of(c).status == RuleStatus.CONFIRMED,
        ),
    ]
