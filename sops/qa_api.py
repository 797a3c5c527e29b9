"""``/api/v1/qa-reviews/``: QA reviews (managers: all of their practices; reviewers: their
own) and recording one (``/record/``), through the same service as the page."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_ops.access import visible_practice_ids
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from sops import qa
from sops.api import BAD_REQUEST, NOT_FOUND, IdPagination
from sops.qa_models import CHECKLIST, QaReview
from work.services import ItemConflict

CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


class QaReviewSerializer(serializers.ModelSerializer[QaReview]):
    class Meta:
        model = QaReview
        fields = [
            "id",
            "practice",
            "claim",
            "week",
            "function",
            "function_owner",
            "owner",
            "checks",
            "status",
            "result",
            "completed_by",
            "completed_at",
            "next_action_due",
            "version",
        ]
        read_only_fields = fields


class CheckSerializer(serializers.Serializer[Any]):
    passed = serializers.BooleanField()
    finding = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RecordSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    checks = serializers.DictField(child=CheckSerializer())

    def validate_checks(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = set(value) - {key for key, _label in CHECKLIST}
        if unknown:
            raise serializers.ValidationError(f"Unknown checks: {', '.join(sorted(unknown))}.")
        return value


@extend_schema_view(
    list=extend_schema(summary="QA reviews you manage or do"),
    retrieve=extend_schema(responses={200: QaReviewSerializer, 404: NOT_FOUND}),
)
class QaReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = QaReview.objects.all()
    serializer_class = QaReviewSerializer
    scope_permission = perms.VIEW_PRACTICE
    write_permission = perms.VIEW_PRACTICE  # the service checks the reviewer
    pagination_class = IdPagination
    filterset_fields = ["week", "status", "result"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        managed = visible_practice_ids(self.request.user, perms.MANAGE_SOPS)
        return (
            super()
            .get_queryset()
            .filter(Q(practice_id__in=managed) | Q(owner_id=self.request.user.pk))
        )

    @extend_schema(
        summary="Record pass or fail and a finding per check",
        request=RecordSerializer,
        responses={200: QaReviewSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def record(self, request: Any, pk: str | None = None) -> Response:
        review = self.get_object()
        if not qa.may_review(request.user, review):
            raise NotFound()
        serializer = RecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            review = self.call_service(
                qa.qa_review_record,
                review=review,
                checks=serializer.validated_data["checks"],
                expected_version=serializer.validated_data["version"],
            )
        except ItemConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(QaReviewSerializer(review).data)
