"""``/api/v1/mini-audits/``: monthly mini-audits (managers: all of their practices;
reviewers: their own) with their claims, and recording root causes (``/record/``), through
the same service as the page."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_ops.access import visible_practice_ids
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from sops import qa_audit
from sops.api import BAD_REQUEST, NOT_FOUND, IdPagination
from sops.qa_api import CONFLICT
from sops.qa_audit_models import MiniAudit, MiniAuditClaim, RootCause
from work.services import ItemConflict


class EntrySerializer(serializers.ModelSerializer[MiniAuditClaim]):
    class Meta:
        model = MiniAuditClaim
        fields = [
            "claim",
            "reason",
            "root_cause",
            "note",
            "function",
            "function_owner",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class MiniAuditSerializer(serializers.ModelSerializer[MiniAudit]):
    entries = EntrySerializer(many=True, read_only=True)

    class Meta:
        model = MiniAudit
        fields = [
            "id",
            "practice",
            "month",
            "function",
            "owner",
            "status",
            "entries",
            "completed_by",
            "completed_at",
            "next_action_due",
            "version",
        ]
        read_only_fields = fields


class CauseSerializer(serializers.Serializer[Any]):
    claim = serializers.IntegerField(min_value=1, max_value=2**62)
    root_cause = serializers.ChoiceField(choices=RootCause.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AuditRecordSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    causes = CauseSerializer(many=True, allow_empty=False, max_length=100)


@extend_schema_view(
    list=extend_schema(summary="Mini-audits you manage or do"),
    retrieve=extend_schema(responses={200: MiniAuditSerializer, 404: NOT_FOUND}),
)
class MiniAuditViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = MiniAudit.objects.prefetch_related("entries")
    serializer_class = MiniAuditSerializer
    scope_permission = perms.VIEW_PRACTICE
    write_permission = perms.VIEW_PRACTICE  # the service checks the reviewer
    pagination_class = IdPagination
    filterset_fields = ["month", "status"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        managed = visible_practice_ids(self.request.user, perms.MANAGE_SOPS)
        return (
            super()
            .get_queryset()
            .filter(Q(practice_id__in=managed) | Q(owner_id=self.request.user.pk))
        )

    @extend_schema(
        summary="Record the root cause (and a note) of some or all of the audit's claims",
        request=AuditRecordSerializer,
        responses={200: MiniAuditSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def record(self, request: Any, pk: str | None = None) -> Response:
        audit = self.get_object()
        if not qa_audit.may_record(request.user, audit):
            raise NotFound()
        serializer = AuditRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        causes = {
            row["claim"]: {"root_cause": row["root_cause"], "note": row["note"]}
            for row in serializer.validated_data["causes"]
        }
        try:
            audit = self.call_service(
                qa_audit.mini_audit_record,
                audit=audit,
                causes=causes,
                expected_version=serializer.validated_data["version"],
            )
        except ItemConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(MiniAuditSerializer(MiniAudit.objects.get(pk=audit.pk)).data)
