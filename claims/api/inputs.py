"""What the claims API accepts: create, update, transition, note, follow-up, work next.

Ids of rows of practices where the caller does not work claims read as "Invalid pk"; the
services check everything else (status machine, next-action invariant, version).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from billing_ops.access import has_perm
from claims.api.fields import ClaimStatusField, ClaimWorkerField, WorkableRelatedField
from claims.api.rows import display_name
from claims.choices import FollowUpChannel, NextAction
from practices import permissions as perms
from practices.models import Coverage, Patient, Practice, Provider

User = get_user_model()

UPDATABLE = ("owner", "next_action", "next_action_due", "wait_reason")


def owner_may_work(owner: Any, practice_id: int) -> None:
    """Refuse an owner who cannot work claims of the claim's practice."""
    if not has_perm(owner, perms.WORK_CLAIMS, practice_id):
        practice = Practice.objects.get(pk=practice_id)
        raise serializers.ValidationError(
            {"owner": f"{display_name(owner)} cannot work claims of {practice}."}
        )


class ClaimLineInputSerializer(serializers.Serializer):
    procedure_code = serializers.CharField(max_length=10)
    modifiers = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, max_length=4
    )
    diagnosis_pointers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=12), required=False, max_length=4
    )
    tooth = serializers.CharField(max_length=4, required=False, allow_blank=True)
    surfaces = serializers.CharField(max_length=10, required=False, allow_blank=True)
    units = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    charge = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    service_date = serializers.DateField(required=False, allow_null=True)


class ClaimCreateSerializer(serializers.Serializer):
    patient = WorkableRelatedField(queryset=Patient.objects.none())
    coverage = WorkableRelatedField(queryset=Coverage.objects.none())
    provider = WorkableRelatedField(queryset=Provider.objects.none())
    pms_claim_number = serializers.CharField(max_length=40)
    service_date_from = serializers.DateField()
    service_date_to = serializers.DateField(required=False, allow_null=True)
    diagnosis_codes = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=12
    )
    lines = ClaimLineInputSerializer(many=True, allow_empty=False)
    owner = ClaimWorkerField(
        queryset=User.objects.none(), required=False, help_text="Defaults to the caller."
    )
    next_action = serializers.ChoiceField(choices=NextAction.choices)
    next_action_due = serializers.DateField()
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    other_payer_paid = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["service_date_from"], attrs.get("service_date_to")
        if end is not None and end < start:
            raise serializers.ValidationError(
                {"service_date_to": "The last service date is before the first."}
            )
        attrs.setdefault("owner", self.context["request"].user)
        owner_may_work(attrs["owner"], attrs["patient"].practice_id)
        return attrs


class ClaimUpdateSerializer(serializers.Serializer):
    """PATCH: the version the caller saw, and any of owner / next action / due / reason."""

    version = serializers.IntegerField(min_value=0)
    owner = ClaimWorkerField(queryset=User.objects.none(), required=False)
    next_action = serializers.ChoiceField(choices=NextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    FIXED = {
        "status": "The status changes only through POST /api/v1/claims/{id}/transition/, "
        "which checks the status machine.",
        "practice": "A claim cannot move to another practice.",
        "patient": "A claim cannot move to another patient; void it and create a new one.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # refuses it as "not a dictionary"
        extra = sorted(set(data) - set(self.fields))
        errors = {
            name: [
                self.FIXED.get(name)
                or f"{name} cannot be changed here; PATCH changes only {', '.join(UPDATABLE)}."
            ]
            for name in extra
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**errors, **exc.detail}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in UPDATABLE):
            raise serializers.ValidationError(f"Send at least one of {', '.join(UPDATABLE)}.")
        if "owner" in attrs:
            owner_may_work(attrs["owner"], self.context["claim"].practice_id)
        return attrs


class TransitionSerializer(serializers.Serializer):
    to_status = ClaimStatusField()
    version = serializers.IntegerField(min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    next_action = serializers.ChoiceField(choices=NextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000)


class FollowUpSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0)
    channel = serializers.ChoiceField(choices=FollowUpChannel.choices)
    contact = serializers.CharField(max_length=200)
    outcome = serializers.CharField(max_length=500)
    next_step = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class WorkNextSerializer(serializers.Serializer):
    practice = serializers.IntegerField(
        required=False, help_text="Only claims of this practice (default: all of yours)."
    )
