"""Access review pages and endpoints through the permission matrix: Sunrise's review is
its managers' (sam); billers, the front desk, vendor staff and the vendor lead get 404,
and so does Maple's manager (mia sees Maple's list only)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sops import access_reviews
from sops.access_review_models import AccessReview, AccessReviewLine
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

MANAGERS = frozenset({"sam"})


def build(world: Any) -> None:
    access_reviews.open_quarterly_reviews(timezone.localdate())
    world.review = AccessReview.objects.get(practice=world.sunrise)
    world.line = world.review.lines.get(user=world.vic)


def access_review_ids(world: Any) -> dict[str, int]:
    """For the API fuzz (tests/test_api_fuzz.py): this quarter's Sunrise review (the biller
    fuzzing it gets 404, the view and its serializers are reached all the same)."""
    build(world)
    return {"/api/v1/access-reviews/": world.review.pk}


def _confirmed(c: Case) -> bool:
    return AccessReviewLine.objects.get(pk=c.world.line.pk).decision == "confirmed"


def _decision(w: Any) -> dict[str, Any]:
    return {"line": w.line.pk, "decision": "confirmed", "version": w.review.version}


class TestAccessReview(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "access review list",
            "get",
            lambda w: "/sops/access-review/",
            MANAGERS,
            marker=lambda w: f"/sops/access-review/{w.review.pk}/",
            route="access-review-list",
        ),
        Endpoint(
            "access review page",
            "get",
            lambda w: f"/sops/access-review/{w.review.pk}/",
            MANAGERS,
            route="access-review",
        ),
        Endpoint(
            "access review decide",
            "post",
            lambda w: f"/sops/access-review/{w.review.pk}/",
            MANAGERS,
            ok_status=302,
            data=_decision,
            route="access-review",
            done=_confirmed,
        ),
        Endpoint(
            "access review api",
            "get",
            lambda w: "/api/v1/access-reviews/",
            MANAGERS,
            api=True,
            marker=lambda w: w.review.pk,
            route="api:api-access-review-list",
        ),
        Endpoint(
            "access review api detail",
            "get",
            lambda w: f"/api/v1/access-reviews/{w.review.pk}/",
            MANAGERS,
            api=True,
            route="api:api-access-review-detail",
        ),
        Endpoint(
            "access review api decide",
            "post",
            lambda w: f"/api/v1/access-reviews/{w.review.pk}/decide/",
            MANAGERS,
            api=True,
            data=_decision,
            route="api:api-access-review-decide",
            done=_confirmed,
        ),
    ]
