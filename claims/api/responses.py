"""The error answers the claims endpoints share, as documented in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()


CONFLICT = OpenApiResponse(ConflictSerializer, description="Stale version: nothing was saved.")
NOT_FOUND = OpenApiResponse(description="No such claim (or not one you may work).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")
