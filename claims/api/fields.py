"""Serializer fields of the claims API: scoped related ids, claim workers, the claim status.

Importing this module registers ``ClaimStatusFieldExtension`` with drf-spectacular; the
package ``__init__`` imports it so the schema never depends on import order.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_ops.access import holders_among, visible_practice_ids
from claims.choices import ClaimStatus
from practices import permissions as perms

User = get_user_model()


class WorkableRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of a row of a practice where the caller works claims; any other reads as
    "Invalid pk", exactly like a missing one. ``queryset`` only names the model."""

    def get_queryset(self) -> QuerySet[Any]:
        model = self.queryset.model
        return model.objects.visible_to(self.context["request"].user, perms.WORK_CLAIMS)


@extend_schema_field(OpenApiTypes.INT)
class ClaimWorkerField(serializers.PrimaryKeyRelatedField):
    """A user who may work claims at one of the caller's practices (the claim's own practice
    is checked by the serializer, which knows it)."""

    def get_queryset(self) -> QuerySet[Any]:
        practice_ids = visible_practice_ids(self.context["request"].user, perms.WORK_CLAIMS)
        return holders_among(perms.WORK_CLAIMS, practice_ids)

    def to_internal_value(self, data: Any) -> Any:
        # The candidate's grants, loaded once, answer here and again in the service
        # (which checks the claim's own practice) from the request's cache.
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            user = User.objects.filter(is_active=True).get(pk=data)
        except (User.DoesNotExist, ValueError, TypeError):
            self.fail("does_not_exist", pk_value=data)
        mine = visible_practice_ids(self.context["request"].user, perms.WORK_CLAIMS)
        if not mine & visible_practice_ids(user, perms.WORK_CLAIMS):
            self.fail("does_not_exist", pk_value=data)
        return user


class ClaimStatusField(serializers.ChoiceField):
    """A claim status; documented once as the shared ``ClaimStatusEnum`` component."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ClaimStatus.choices, **kwargs)


class ClaimStatusFieldExtension(OpenApiSerializerFieldExtension):
    """ "status", "to_status" and "allowed_transitions" share one enum component instead of
    colliding with the other "status" enums of the API (attachments, appointments)."""

    target_class = ClaimStatusField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        description = "\n".join(f"* `{value}` - {label}" for value, label in ClaimStatus.choices)
        component = ResolvedComponent(
            name="ClaimStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="ClaimStatusEnum",
            schema={"type": "string", "enum": ClaimStatus.values, "description": description},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
