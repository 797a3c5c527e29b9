"""REST endpoints for patient accounts (read): accounts with their balance and aging, an
account's ledger, adjustment requests and statements, scoped like the pages
(WORK_PATIENT_BILLING at the practice; another practice's rows are not there)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ar.ledger_models import AdjustmentRequest, LedgerEntry, PatientAccount
from ar.statement_models import Statement
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.phi_log import record_read

PERM = perms.WORK_PATIENT_BILLING


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
    class Meta:
        model = AdjustmentRequest
        fields = [
            "id",
            "practice",
            "account",
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
    filterset_fields = ["practice", "status"]

    @extend_schema(responses={200: LedgerEntrySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def ledger(self, request: Any, pk: Any = None) -> Response:
        """The account's entries, oldest first (append-only: reversals are entries too)."""
        account = self.get_object()
        record_read(request, [account], what="api patient account ledger", action="api")
        entries = account.entries.order_by("posted_at", "pk")
        return Response(LedgerEntrySerializer(entries, many=True).data)


class AdjustmentRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Adjustment requests (pending, posted, refused) of the caller's patient billing."""

    queryset = AdjustmentRequest.objects.order_by("-requested_at", "-pk")
    serializer_class = AdjustmentRequestSerializer
    scope_permission = PERM
    filterset_fields = ["practice", "status", "kind"]


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Statements as they were made (immutable records)."""

    queryset = Statement.objects.order_by("-cycle_date", "-pk")
    serializer_class = StatementSerializer
    scope_permission = PERM
    filterset_fields = ["practice", "stage", "cycle_date"]
