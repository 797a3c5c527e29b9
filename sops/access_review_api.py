"""``/api/v1/access-reviews/``: the practice managers' quarterly access reviews with their
lines (list, retrieve) and ``/decide/`` (confirm or revoke one line), through the same
service as the page. Everybody else gets 404 for a review, an empty list otherwise."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.stepup import StepUpFresh
from sops import access_reviews
from sops.access_review_models import AccessDecision, AccessReview, AccessReviewLine
from sops.api import BAD_REQUEST, NOT_FOUND, IdPagination
from work.services import ItemConflict

CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


class AccessReviewLineSerializer(serializers.ModelSerializer[AccessReviewLine]):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = AccessReviewLine
        fields = [
            "id",
            "user",
            "username",
            "vendor_name",
            "is_lead",
            "service_areas",
            "last_login",
            "ends_on",
            "decision",
            "decided_by",
            "decided_at",
            "note",
        ]
        read_only_fields = fields


class AccessReviewSerializer(serializers.ModelSerializer[AccessReview]):
    lines = AccessReviewLineSerializer(many=True, read_only=True)

    class Meta:
        model = AccessReview
        fields = [
            "id",
            "practice",
            "quarter",
            "status",
            "owner",
            "next_action_due",
            "completed_by",
            "completed_at",
            "version",
            "lines",
        ]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    decision = serializers.ChoiceField(choices=AccessDecision.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


@extend_schema_view(
    list=extend_schema(summary="Access reviews of the practices you manage"),
    retrieve=extend_schema(responses={200: AccessReviewSerializer, 404: NOT_FOUND}),
)
class AccessReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = AccessReview.objects.prefetch_related("lines__user").order_by("-quarter", "-pk")
    serializer_class = AccessReviewSerializer
    scope_permission = perms.MANAGE_ACCESS
    write_permission = perms.MANAGE_ACCESS
    pagination_class = IdPagination
    filterset_fields = ["quarter", "status"]
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="Confirm or revoke one vendor account's access",
        request=DecideSerializer,
        responses={200: AccessReviewSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Any, pk: str | None = None) -> Response:
        review = self.get_object()
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = review.lines.filter(pk=data["line"]).select_related("review").first()
        if line is None:
            raise NotFound()
        fresh = StepUpFresh()
        if data["decision"] == AccessDecision.REVOKED and not fresh.has_permission(request, self):
            raise PermissionDenied(fresh.message)  # a revocation: the password again first
        try:
            review = self.call_service(
                access_reviews.access_review_decide,
                line=line,
                decision=data["decision"],
                note=data["note"],
                expected_version=data["version"],
            )
        except ItemConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(AccessReviewSerializer(self.get_queryset().get(pk=review.pk)).data)
