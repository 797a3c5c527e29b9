"""Claim attachments over the API: the serializer and /api/v1/claims/{id}/attachments/.

Listing and adding go through ``claims.attachments``, which hides clinical kinds from
callers without ``view_clinical_attachments`` and checks the uploaded file.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from billing_ops.pages import get_scoped_or_404
from claims import attachments as claim_attachments
from claims.api.responses import BAD_REQUEST, NOT_FOUND
from claims.choices import AttachmentStatus
from claims.models import Attachment


class AttachmentSerializer(serializers.ModelSerializer):
    """One serializer both ways: multipart in (kind, label, status, file), metadata out.
    The file itself is downloaded from the claim page route, which re-checks the scope."""

    file = serializers.FileField(write_only=True, required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=AttachmentStatus.choices, default=AttachmentStatus.REQUESTED
    )
    has_file = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "label",
            "status",
            "file",
            "is_clinical",
            "has_file",
            "download_url",
            "requested_by",
            "created_at",
        ]
        read_only_fields = ["id", "is_clinical", "requested_by", "created_at"]

    def get_has_file(self, attachment: Attachment) -> bool:
        return bool(attachment.file)

    def get_download_url(self, attachment: Attachment) -> str | None:
        if not attachment.file:
            return None
        return reverse(
            "claim-attachment-download",
            kwargs={"pk": attachment.claim_id, "attachment_pk": attachment.pk},
        )


class AttachmentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AttachmentStatus.choices)
    file = serializers.FileField(required=False, allow_null=True, default=None)


class ClaimAttachmentActions(ScopedViewSet):
    """The ``attachments`` and ``attachment_status`` actions of ``ClaimViewSet``, which
    supplies the claim scope."""

    @extend_schema(
        methods=["GET"], responses={200: AttachmentSerializer(many=True), 404: NOT_FOUND}
    )
    @extend_schema(
        methods=["POST"],
        request=AttachmentSerializer,
        responses={201: AttachmentSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request: Any, pk: str | None = None) -> Response:
        """Attachments you may see (clinical kinds need view_clinical_attachments); POST
        requests or uploads one (PDF, PNG, JPEG, TIFF or text; 10 MB at most)."""
        claim = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            visible = claim_attachments.visible_attachments(request.user, claim)
            return Response(AttachmentSerializer(visible, many=True, context=context).data)
        serializer = AttachmentSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        attachment = self.call_service(
            claim_attachments.attachment_add, claim=claim, **serializer.validated_data
        )
        return Response(
            AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=AttachmentStatusSerializer,
        responses={200: AttachmentSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]+)/status",
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        filter_backends=[],
    )
    def attachment_status(
        self, request: Any, pk: str | None = None, attachment_pk: str | None = None
    ) -> Response:
        """Move an attachment on: requested → received → sent (a file is needed from
        "received" on; send it with the move if the request had none)."""
        claim = self.get_object()
        attachment = get_scoped_or_404(
            claim_attachments.visible_attachments(request.user, claim), pk=attachment_pk
        )
        serializer = AttachmentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = self.call_service(
            claim_attachments.attachment_set_status,
            attachment=attachment,
            **serializer.validated_data,
        )
        context = self.get_serializer_context()
        return Response(AttachmentSerializer(attachment, context=context).data)
