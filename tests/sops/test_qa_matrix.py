"""QA pages and endpoints through the permission matrix: Sunrise's QA reviews are its
manager's (sam: the reviewer here); everybody else gets 404 (mia sees Maple's list only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from claims.choices import ClaimStatus
from practices.choices import ClaimFormat
from sops import qa
from sops.choices import QaStatus
from sops.qa_models import QaReview
from tests import claim_factory, factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

MANAGERS = frozenset({"sam"})
ALL_PASS = {key: {"passed": True, "finding": ""} for key, _label in qa.CHECKLIST}


def build(world: Any) -> None:
    patient = factories.PatientFactory(practice=world.sunrise)
    world.claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="QA-SUN-1",
        owner=world.bill,
        status=ClaimStatus.SUBMITTED,
    )
    qa.sample_week(timezone.localdate() + dt.timedelta(days=1))
    world.review = QaReview.objects.get(claim=world.claim)


def _recorded(c: Case) -> bool:
    return QaReview.objects.get(pk=c.world.review.pk).status == QaStatus.DONE


def _page_data(w: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"version": w.review.version}
    for key, _label in qa.CHECKLIST:
        data[f"{key}_passed"] = "pass"
        data[f"{key}_finding"] = ""
    return data


class TestQa(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "qa list",
            "get",
            lambda w: "/sops/qa/",
            MANAGERS,
            marker=lambda w: "QA-SUN-1",
            route="qa-list",
        ),
        Endpoint(
            "qa review page",
            "get",
            lambda w: f"/sops/qa/{w.review.pk}/",
            MANAGERS,
            route="qa-review",
        ),
        Endpoint(
            "qa record",
            "post",
            lambda w: f"/sops/qa/{w.review.pk}/",
            MANAGERS,
            ok_status=302,
            data=_page_data,
            route="qa-review",
            done=_recorded,
        ),
        Endpoint(
            "qa api",
            "get",
            lambda w: "/api/v1/qa-reviews/",
            MANAGERS,
            api=True,
            marker=lambda w: w.review.pk,
            route="api:api-qa-review-list",
        ),
        Endpoint(
            "qa api detail",
            "get",
            lambda w: f"/api/v1/qa-reviews/{w.review.pk}/",
            MANAGERS,
            api=True,
            route="api:api-qa-review-detail",
        ),
        Endpoint(
            "qa api record",
            "post",
            lambda w: f"/api/v1/qa-reviews/{w.review.pk}/record/",
            MANAGERS,
            api=True,
            data=lambda w: {"version": w.review.version, "checks": ALL_PASS},
            route="api:api-qa-review-record",
            done=_recorded,
        ),
    ]
