"""``/api/v1/escalations/``: list and read the escalations you may read, raise one about a
work item, answer one (``/answer/``); the same services and scoping as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from sops import escalation_services
from sops.api import BAD_REQUEST, NOT_FOUND, IdPagination
from sops.choices import BillingFunctionKind
from sops.escalation_models import QUESTION_MAX, Escalation
from work.services import ItemConflict

CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


class EscalationSerializer(serializers.ModelSerializer[Escalation]):
    function_kind = serializers.CharField(source="function.kind", read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "practice",
            "function_kind",
            "question",
            "is_routine",
            "deadline",
            "patient_impact",
            "subject_type",
            "subject_id",
            "subject_label",
            "status",
            "stage",
            "owner",
            "next_action_due",
            "answer",
            "answered_by",
            "answered_at",
            "raised_by",
            "raised_at",
            "version",
        ]
        read_only_fields = fields


class EscalationCreateSerializer(serializers.Serializer[Any]):
    subject_type = serializers.CharField(max_length=30)
    subject_id = serializers.IntegerField(min_value=1, max_value=2**62)
    function_kind = serializers.ChoiceField(choices=BillingFunctionKind.choices)
    question = serializers.CharField(max_length=QUESTION_MAX)
    deadline = serializers.DateField(required=False, allow_null=True)
    patient_impact = serializers.CharField(max_length=300, required=False, allow_blank=True)
    is_routine = serializers.BooleanField(required=False, default=False)


class AnswerSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    answer = serializers.CharField(max_length=4000)


@extend_schema_view(
    list=extend_schema(summary="Escalations you may read"),
    retrieve=extend_schema(responses={200: EscalationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Ask the practice one question about a work item",
        request=EscalationCreateSerializer,
        responses={201: EscalationSerializer, 400: BAD_REQUEST},
    ),
)
class EscalationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = Escalation.objects.select_related("function")
    serializer_class = EscalationSerializer
    scope_permission = perms.VIEW_PRACTICE
    # Answering checks who may answer itself (the service).
    write_permission = perms.VIEW_PRACTICE
    pagination_class = IdPagination
    filterset_fields = ["status", "is_routine", "subject_type", "subject_id"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        condition = escalation_services.readable_condition(self.request.user)
        return super().get_queryset().filter(condition)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = EscalationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation = self.call_service(
            escalation_services.escalation_raise, **serializer.validated_data
        )
        fresh = Escalation.objects.select_related("function").get(pk=escalation.pk)
        return Response(EscalationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Answer (the function's owner, backup, current owner or a manager)",
        request=AnswerSerializer,
        responses={200: EscalationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Any, pk: str | None = None) -> Response:
        escalation = self.get_object()
        if not escalation_services.may_answer(request.user, escalation):
            raise NotFound()
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            self.call_service(
                escalation_services.escalation_answer,
                escalation=escalation,
                answer=serializer.validated_data["answer"],
                expected_version=serializer.validated_data["version"],
            )
        except ItemConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:  # pragma: no cover - call_service converts
            raise NotFound() from exc
        fresh = self.get_queryset().get(pk=escalation.pk)
        return Response(EscalationSerializer(fresh).data)
