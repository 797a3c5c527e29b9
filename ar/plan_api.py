"""``/api/v1/payment-plans/``: list and read the plans of the practices where the caller
works patient balances, set one up, and ``/{id}/cancel/``; the same services and scoping
as the pages (WORK_PATIENT_BILLING; another practice's plan is not there)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ar import plans
from ar.ledger_models import PatientAccount
from ar.plan_models import Installment, PaymentPlan
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.phi_log import record_read

PERM = perms.WORK_PATIENT_BILLING
BAD_REQUEST = OpenApiResponse(description="Refused: the reasons, by field.")
NOT_FOUND = OpenApiResponse(description="No such plan here.")


class InstallmentSerializer(serializers.ModelSerializer[Installment]):
    class Meta:
        model = Installment
        fields = ["id", "number", "amount", "due_date", "paid_amount", "status", "owner"]
        read_only_fields = fields


class PaymentPlanSerializer(serializers.ModelSerializer[PaymentPlan]):
    installments = InstallmentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentPlan
        fields = [
            "id",
            "practice",
            "account",
            "total",
            "status",
            "terms",
            "grace_days",
            "created_by",
            "created_at",
            "ended_by",
            "ended_at",
            "end_reason",
            "installments",
        ]
        read_only_fields = fields


class InstallmentInputSerializer(serializers.Serializer[Any]):
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class AccountField(serializers.PrimaryKeyRelatedField[PatientAccount]):
    """An account the caller works (another practice's is "does not exist")."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return PatientAccount.objects.visible_to(user, PERM)


class PlanCreateSerializer(serializers.Serializer[Any]):
    account = AccountField(queryset=PatientAccount.objects.all())
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    terms = serializers.CharField(max_length=500, required=False, allow_blank=True)
    grace_days = serializers.IntegerField(min_value=0, max_value=plans.MAX_GRACE_DAYS, default=10)
    installments = serializers.ListField(
        child=InstallmentInputSerializer(), required=False, max_length=60
    )
    count = serializers.IntegerField(min_value=1, max_value=60, required=False)
    first_due = serializers.DateField(required=False)
    interval = serializers.ChoiceField(
        choices=list(plans.INTERVALS), required=False, default="monthly"
    )


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


@extend_schema_view(
    list=extend_schema(summary="Payment plans of the practices where you work balances"),
    retrieve=extend_schema(responses={200: PaymentPlanSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Set up a plan: installments, or a count and a first due date",
        request=PlanCreateSerializer,
        responses={201: PaymentPlanSerializer, 400: BAD_REQUEST},
    ),
)
class PaymentPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = PaymentPlan.objects.prefetch_related("installments").order_by("-created_at", "-pk")
    serializer_class = PaymentPlanSerializer
    scope_permission = PERM
    write_permission = PERM
    filterset_fields = ["practice", "status", "account"]
    lookup_value_regex = r"[0-9]+"

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        record_read(request, [plan.account], what="api payment plan", action="api")
        return Response(PaymentPlanSerializer(plan).data)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = PlanCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        rows = data.pop("installments", None)
        if rows:
            data["installments"] = [(row["due_date"], row["amount"]) for row in rows]
        plan = self.call_service(plans.plan_create, **data)
        return Response(
            PaymentPlanSerializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Cancel an active plan (the account goes back to statements)",
        request=CancelSerializer,
        responses={200: PaymentPlanSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Any, pk: str | None = None) -> Response:
        plan = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.call_service(plans.plan_cancel, plan=plan, reason=serializer.validated_data["reason"])
        return Response(PaymentPlanSerializer(self.get_queryset().get(pk=plan.pk)).data)
