"""What the claims API answers: queue rows, the claim detail and its parts, the timeline."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Manager
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claims import attachments as claim_attachments
from claims import priority
from claims.api.attachments import AttachmentSerializer
from claims.api.fields import ClaimStatusField
from claims.api.rows import claim_list_rows, display_name
from claims.choices import TRANSITIONS
from claims.models import Claim, ClaimActivity, ClaimLine, ScrubFinding
from claims.payments import POSTED_STATUSES


class ClaimLineSerializer(serializers.ModelSerializer):
    modifiers = serializers.ListField(child=serializers.CharField(), read_only=True)
    diagnosis_pointers = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = ClaimLine
        fields = [
            "id",
            "line_number",
            "procedure_code",
            "modifiers",
            "diagnosis_pointers",
            "tooth",
            "surfaces",
            "units",
            "charge",
            "service_date",
        ]
        read_only_fields = fields


class ScrubFindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScrubFinding
        fields = ["id", "rule", "severity", "message", "line_number", "found_at"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    data = serializers.DictField(read_only=True)

    class Meta:
        model = ClaimActivity
        fields = [
            "id",
            "kind",
            "at",
            "actor",
            "actor_name",
            "text",
            "channel",
            "contact",
            "outcome",
            "next_step",
            "data",
        ]
        read_only_fields = fields

    def get_actor_name(self, activity: ClaimActivity) -> str | None:
        return display_name(activity.actor)


class ClaimRowsSerializer(serializers.ListSerializer):
    """``ClaimListSerializer(many=True)``: the rows built directly (``claims.api.rows``),
    the same dicts as the child's ``to_representation`` of each claim. The OpenAPI schema
    is the child's, as for any list serializer."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        if type(self.child) is not ClaimListSerializer:
            return super().to_representation(data)  # a subclass's rows differ
        claims = data.all() if isinstance(data, Manager) else data
        return claim_list_rows(claims)


class ClaimListSerializer(serializers.ModelSerializer):
    """One queue row; related names come from joined rows (no query per row)."""

    status = ClaimStatusField(read_only=True)
    patient_name = serializers.SerializerMethodField()
    payer_name = serializers.CharField(source="payer.name", read_only=True)
    owner_name = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    priority_explanation = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "practice",
            "pms_claim_number",
            "patient",
            "patient_name",
            "payer",
            "payer_name",
            "status",
            "owner",
            "owner_name",
            "next_action",
            "next_action_due",
            "wait_reason",
            "total_billed",
            "total_allowed",
            "total_paid",
            "total_adjusted",
            "patient_responsibility",
            "balance",
            "follow_up_count",
            "priority",
            "priority_explanation",
            "version",
        ]
        read_only_fields = fields
        list_serializer_class = ClaimRowsSerializer

    def get_patient_name(self, claim: Claim) -> str:
        return str(claim.patient)

    def get_owner_name(self, claim: Claim) -> str | None:
        return display_name(claim.owner)

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_balance(self, claim: Claim) -> str:
        return f"{priority.balance(claim):.2f}"

    def get_priority_explanation(self, claim: Claim) -> str:
        return priority.explain(claim)


class ClaimDetailSerializer(ClaimListSerializer):
    """The claim page as data: lines, scrub findings, attachments the caller may see."""

    diagnosis_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    provider_name = serializers.SerializerMethodField()
    held_by_me = serializers.SerializerMethodField()
    lines = ClaimLineSerializer(many=True, read_only=True)
    findings = ScrubFindingSerializer(many=True, read_only=True)
    attachments = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(ClaimListSerializer.Meta):
        fields = [
            *ClaimListSerializer.Meta.fields,
            "coverage",
            "provider",
            "provider_name",
            "claim_format",
            "service_date_from",
            "service_date_to",
            "diagnosis_codes",
            "other_payer_paid",
            "timely_filing_deadline",
            "first_submitted_at",
            "submission_count",
            "locked_by",
            "locked_until",
            "held_by_me",
            "created_at",
            "updated_at",
            "lines",
            "findings",
            "attachments",
            "allowed_transitions",
        ]
        read_only_fields = fields

    def get_provider_name(self, claim: Claim) -> str:
        return str(claim.provider)

    def get_held_by_me(self, claim: Claim) -> bool:
        return claim.locked_by_id is not None and claim.locked_by_id == self._user().pk

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, claim: Claim) -> Any:
        visible = claim_attachments.visible_attachments(self._user(), claim)
        return AttachmentSerializer(visible, many=True, context=self.context).data

    @extend_schema_field(serializers.ListField(child=ClaimStatusField()))
    def get_allowed_transitions(self, claim: Claim) -> list[str]:
        return sorted(TRANSITIONS[claim.status] - POSTED_STATUSES)

    def _user(self) -> Any:
        request = self.context.get("request")
        return request.user if request is not None else AnonymousUser()
