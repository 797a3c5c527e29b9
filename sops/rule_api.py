"""``/api/v1/payer-rules/``: the house rule library (read: who works claims; write:
managers), through the same services and scoping as the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from billing_ops.access import has_perm, visible_practice_ids
from billing_ops.api import ScopedViewSet
from claims.models import PayerRule
from practices import permissions as perms
from practices.choices import ServiceArea
from practices.models import Payer
from sops import rule_services
from sops.api import BAD_REQUEST, NOT_FOUND, IdPagination
from sops.rule_models import HouseRule


class HouseRuleSerializer(serializers.ModelSerializer[HouseRule]):
    class Meta:
        model = HouseRule
        fields = [
            "id",
            "practice",
            "payer",
            "procedure_pattern",
            "service_area",
            "decision",
            "status",
            "confirmed_by",
            "confirmed_at",
            "source",
            "last_reviewed",
            "review_due",
            "review_every_days",
            "payer_rule",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)  # an id
class ManagedPayerField(serializers.PrimaryKeyRelatedField[Payer]):
    """A payer of a practice where the caller manages the library."""

    def get_queryset(self) -> QuerySet[Payer]:
        ids = visible_practice_ids(self.context["request"].user, perms.MANAGE_SOPS)
        return Payer.objects.filter(practice_id__in=sorted(ids))


@extend_schema_field(OpenApiTypes.INT)  # an id
class ManagedPayerRuleField(serializers.PrimaryKeyRelatedField[PayerRule]):
    def get_queryset(self) -> QuerySet[PayerRule]:
        ids = visible_practice_ids(self.context["request"].user, perms.MANAGE_SOPS)
        return PayerRule.objects.filter(practice_id__in=sorted(ids))


class HouseRuleCreateSerializer(serializers.Serializer[Any]):
    payer = ManagedPayerField()
    decision = serializers.CharField(max_length=5000)
    procedure_pattern = serializers.CharField(max_length=20, required=False, allow_blank=True)
    service_area = serializers.ChoiceField(
        choices=[("", "Any"), *ServiceArea.choices], required=False, default=""
    )
    source = serializers.CharField(max_length=300, required=False, allow_blank=True)
    payer_rule = ManagedPayerRuleField(required=False, allow_null=True)
    review_every_days = serializers.IntegerField(min_value=7, max_value=366, default=91)


class ConfirmSerializer(serializers.Serializer[Any]):
    source = serializers.CharField(max_length=300)


@extend_schema_view(
    list=extend_schema(summary="House rules of the practices whose claims you work"),
    retrieve=extend_schema(responses={200: HouseRuleSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Add a rule to the library (managers; unconfirmed)",
        request=HouseRuleCreateSerializer,
        responses={201: HouseRuleSerializer, 400: BAD_REQUEST},
    ),
)
class HouseRuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = HouseRule.objects.all()
    serializer_class = HouseRuleSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.MANAGE_SOPS
    pagination_class = IdPagination
    filterset_fields = ["payer", "status"]
    lookup_value_regex = r"[0-9]+"

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = HouseRuleCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        payer = data["payer"]
        if not has_perm(request.user, perms.MANAGE_SOPS, payer.practice_id):
            raise ValidationError({"payer": "Invalid pk."})
        rule = self.call_service(rule_services.house_rule_save, practice=payer.practice, **data)
        return Response(HouseRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm the decision (managers): the source it was confirmed from",
        request=ConfirmSerializer,
        responses={200: HouseRuleSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Any, pk: str | None = None) -> Response:
        rule = self.get_object()
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = self.call_service(
            rule_services.house_rule_confirm, rule=rule, source=serializer.validated_data["source"]
        )
        return Response(HouseRuleSerializer(rule).data)
