"""REST endpoints for patient accounts: accounts with their balance and aging, an account's
ledger, adjustment requests and statements, scoped like the pages (WORK_PATIENT_BILLING at
the practice; another practice's rows are not there).

Writes go through the pages' services: a patient payment and a dispute on an account, an
adjustment request, and its approval or refusal (APPROVE_ADJUSTMENTS: a practice manager;
anybody else gets the 404 of a row they cannot see). Bad input is a 400 naming the field,
and nothing is written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ar import adjustments, disputes, ledger
from ar.account_choices import PATIENT_ADJUSTMENT_KINDS, EntryKind, PaymentMethod
from ar.ledger_models import AdjustmentRequest, LedgerEntry, PatientAccount
from ar.statement_models import Dispute, Statement
from billing_ops.access import visible_practice_ids
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.phi_log import record_read

PERM = perms.WORK_PATIENT_BILLING
APPROVE = perms.APPROVE_ADJUSTMENTS
BAD_REQUEST = OpenApiResponse(description="Invalid input: the field and why; nothing written.")
NOT_FOUND = OpenApiResponse(description="No such row among those you may act on.")


class PatientAccountSerializer(serializers.ModelSerializer[PatientAccount]):
    account_number = serializers.CharField(source="patient.account_number", read_only=True)
    aging_bucket = serializers.SerializerMethodField()

    class Meta:
        model = PatientAccount
        fields = [
            "id",
            "practice",
            "patient",
            "account_number",
            "status",
            "balance",
            "oldest_unpaid_on",
            "aging_bucket",
            "owner",
            "next_action",
            "next_action_due",
            "wait_reason",
            "priority",
            "priority_reasons",
        ]
        read_only_fields = fields

    def get_aging_bucket(self, obj: PatientAccount) -> str:
        return obj.aging_bucket(timezone.localdate())


class LedgerEntrySerializer(serializers.ModelSerializer[LedgerEntry]):
    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "entry_date",
            "method",
            "reference",
            "memo",
            "claim_payment",
            "claim",
            "reverses",
            "posted_by",
            "posted_at",
        ]
        read_only_fields = fields


class AdjustmentRequestSerializer(serializers.ModelSerializer[AdjustmentRequest]):
    denial = serializers.SerializerMethodField()

    class Meta:
        model = AdjustmentRequest
        fields = [
            "id",
            "practice",
            "account",
            "write_off",
            "denial",
            "kind",
            "amount",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "entry",
            "owner",
            "next_action_due",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_denial(self, obj: AdjustmentRequest) -> int | None:
        """An insurance write-off's denial (null for a patient adjustment)."""
        return obj.write_off.denial_id if obj.write_off is not None else None


class BillingAccountField(serializers.PrimaryKeyRelatedField):
    """An account of a practice where the caller works patient balances; any other reads
    as "Invalid pk", exactly like a missing one."""

    def get_queryset(self) -> QuerySet[Any]:
        return PatientAccount.objects.visible_to(self.context["request"].user, PERM)


class AdjustmentRequestCreateSerializer(serializers.Serializer[Any]):
    account = BillingAccountField(queryset=PatientAccount.objects.all())
    kind = serializers.ChoiceField(choices=PATIENT_ADJUSTMENT_KINDS)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=500)


class RefuseSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=500, help_text="Why the request is refused.")


class PaymentSerializer(serializers.Serializer[Any]):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=ledger.MAX_AMOUNT
    )
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(
        max_length=80,
        required=False,
        default="",
        allow_blank=True,
        help_text="Check number or card receipt number (never a card number).",
    )
    memo = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class DisputeCreateSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class DisputeSerializer(serializers.ModelSerializer[Dispute]):
    class Meta:
        model = Dispute
        fields = ["id", "practice", "account", "reason", "status", "opened_by", "opened_at"]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer[Statement]):
    class Meta:
        model = Statement
        fields = [
            "id",
            "practice",
            "account",
            "cycle_date",
            "due_date",
            "stage",
            "balance",
            "oldest_unpaid_on",
            "wording",
            "recipient",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class PatientAccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Patient accounts of the practices where the caller works patient balances."""

    queryset = PatientAccount.objects.select_related("patient").order_by("-priority", "-pk")
    serializer_class = PatientAccountSerializer
    scope_permission = PERM
    write_permission = PERM
    filterset_fields = ["practice", "status"]

    @extend_schema(responses={200: LedgerEntrySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def ledger(self, request: Any, pk: Any = None) -> Response:
        """The account's entries, oldest first (append-only: reversals are entries too)."""
        account = self.get_object()
        record_read(request, [account], what="api patient account ledger", action="api")
        entries = account.entries.order_by("posted_at", "pk")
        return Response(LedgerEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Take a patient payment (cash, check or card keyed by hand)",
        request=PaymentSerializer,
        responses={201: LedgerEntrySerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def payments(self, request: Any, pk: Any = None) -> Response:
        """One payment entry on the account's ledger, as at the front desk."""
        account = self.get_object()
        serializer = PaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = self.call_service(
            ledger.ledger_post, account=account, kind=EntryKind.PAYMENT, **serializer.validated_data
        )
        return Response(LedgerEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the patient's dispute (statements hold until it is resolved)",
        request=DisputeCreateSerializer,
        responses={201: DisputeSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def disputes(self, request: Any, pk: Any = None) -> Response:
        account = self.get_object()
        serializer = DisputeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dispute = self.call_service(
            disputes.dispute_open, account=account, reason=serializer.validated_data["reason"]
        )
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class AdjustmentRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Adjustment requests (pending, posted, refused) of the caller's patient billing."""

    queryset = AdjustmentRequest.objects.select_related("write_off").order_by(
        "-requested_at", "-pk"
    )
    serializer_class = AdjustmentRequestSerializer
    scope_permission = PERM
    write_permission = APPROVE  # approve and refuse: a practice manager
    filterset_fields = ["practice", "status", "kind"]

    def get_queryset(self) -> QuerySet[AdjustmentRequest]:
        """Patient adjustments where the caller works patient billing; a denial's insurance
        write-off (no account) only where they also work claims: a vendor engaged for
        patient billing alone sees nothing of the practice's denials."""
        claims_at = visible_practice_ids(self.request.user, perms.WORK_CLAIMS)
        return (
            super().get_queryset().filter(Q(account__isnull=False) | Q(practice_id__in=claims_at))
        )

    def _answer(self, item: AdjustmentRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(AdjustmentRequestSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Ask for an adjustment (posted at once at or under the practice's threshold, "
        "else waiting for a manager in Approvals)",
        request=AdjustmentRequestCreateSerializer,
        responses={201: AdjustmentRequestSerializer, 400: BAD_REQUEST},
    )
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = AdjustmentRequestCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        made = self.call_service(adjustments.adjustment_request, **serializer.validated_data)
        return self._answer(made, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a pending request (the entry posts; an insurance write-off closes "
        "its denial)",
        request=None,
        responses={200: AdjustmentRequestSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Any, pk: Any = None) -> Response:
        item = self.get_object()
        return self._answer(self.call_service(adjustments.adjustment_approve, request=item))

    @extend_schema(
        summary="Refuse a pending request, saying why (nothing posts)",
        request=RefuseSerializer,
        responses={200: AdjustmentRequestSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request: Any, pk: Any = None) -> Response:
        item = self.get_object()
        serializer = RefuseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = self.call_service(
            adjustments.adjustment_refuse, request=item, note=serializer.validated_data["note"]
        )
        return self._answer(item)


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Statements as they were made (immutable records)."""

    queryset = Statement.objects.order_by("-cycle_date", "-pk")
    serializer_class = StatementSerializer
    scope_permission = PERM
    filterset_fields = ["practice", "stage", "cycle_date"]
