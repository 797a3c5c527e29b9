"""REST endpoints for claims: queues, detail, create, next action, transitions, notes,
follow-ups, attachments and "work next" — every write through the claim services.

Scope is ``work_claims`` throughout: a claim of a practice the caller cannot work answers
404 exactly like a missing one, and ids of other practices' rows in a request body read as
"Invalid pk". A stale ``version`` answers 409 with the current version; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from ar.queues import QUEUES, ClaimQueueFilter, queue_queryset
from billing_ops.api import ScopedViewSet
from billing_ops.scoping import user_has_practice_perm
from claims import attachments as claim_attachments
from claims import priority, services, work
from claims.choices import (
    TRANSITIONS,
    AttachmentStatus,
    ClaimStatus,
    FollowUpChannel,
    NextAction,
)
from claims.models import Attachment, Claim, ClaimActivity, ClaimLine, ScrubFinding
from practices import permissions as perms
from practices.models import Coverage, Patient, Practice, PracticeUserPermission, Provider

User = get_user_model()

UPDATABLE = ("owner", "next_action", "next_action_due", "wait_reason")


def _name(user: Any) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


# --- fields --------------------------------------------------------------------------


class WorkableRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of a row of a practice where the caller works claims; any other reads as
    "Invalid pk", exactly like a missing one. ``queryset`` only names the model."""

    def get_queryset(self) -> QuerySet[Any]:
        model = self.queryset.model
        return model.objects.visible_to(self.context["request"].user, perms.WORK_CLAIMS)


class ClaimWorkerField(serializers.PrimaryKeyRelatedField):
    """A user who may work claims at one of the caller's practices (the claim's own practice
    is checked by the serializer, which knows it)."""

    def get_queryset(self) -> QuerySet[Any]:
        practices = Practice.objects.visible_to(self.context["request"].user, perms.WORK_CLAIMS)
        workers = PracticeUserPermission.objects.filter(
            content_object__in=practices, permission__codename=perms.WORK_CLAIMS
        ).values("user_id")
        return User.objects.filter(is_active=True, pk__in=workers)


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


def _owner_may_work(owner: Any, practice_id: int) -> None:
    if not user_has_practice_perm(owner, perms.WORK_CLAIMS, practice_id):
        practice = Practice.objects.get(pk=practice_id)
        raise serializers.ValidationError(
            {"owner": f"{_name(owner)} cannot work claims of {practice}."}
        )


# --- read serializers ----------------------------------------------------------------


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
        return _name(activity.actor)


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

    def get_patient_name(self, claim: Claim) -> str:
        return str(claim.patient)

    def get_owner_name(self, claim: Claim) -> str | None:
        return _name(claim.owner)

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
        return sorted(TRANSITIONS[claim.status])

    def _user(self) -> Any:
        request = self.context.get("request")
        return request.user if request is not None else AnonymousUser()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()


# --- write serializers ---------------------------------------------------------------


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
        _owner_may_work(attrs["owner"], attrs["patient"].practice_id)
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
            _owner_may_work(attrs["owner"], self.context["claim"].practice_id)
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


# --- filters and pages ---------------------------------------------------------------


class ClaimFilter(ClaimQueueFilter):
    """The queue filters of the pages, plus ``queue`` (default: every claim, closed too)."""

    queue = django_filters.ChoiceFilter(
        choices=[(slug, q.title) for slug, q in QUEUES.items()], method="filter_queue"
    )

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, **kw: Any):
        self.user = getattr(request, "user", None) or AnonymousUser()
        super().__init__(data, queryset, request=request, user=self.user, **kw)

    def filter_queue(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return queryset.filter(pk__in=queue_queryset(value, self.user).values("pk"))


class ClaimCursorPagination(CursorPagination):
    """Keyset pages in queue order: deep pages cost the same as the first."""

    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ActivityPagination(CursorPagination):
    ordering = ("-at", "-id")
    page_size = 100


# --- the viewset ---------------------------------------------------------------------

CONFLICT = OpenApiResponse(ConflictSerializer, description="Stale version: nothing was saved.")
NOT_FOUND = OpenApiResponse(description="No such claim (or not one you may work).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")


@extend_schema_view(
    list=extend_schema(
        summary="Claims you may work, in priority order",
        responses=ClaimListSerializer(many=True),
    ),
    retrieve=extend_schema(responses={200: ClaimDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        request=ClaimCreateSerializer,
        responses={201: ClaimDetailSerializer, 400: BAD_REQUEST},
    ),
    partial_update=extend_schema(
        summary="Set owner and/or next action (status changes go through transition)",
        request=ClaimUpdateSerializer,
        responses={200: ClaimDetailSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Claims of the practices where the caller holds ``work_claims``."""

    queryset = Claim.objects.select_related("patient", "payer", "owner")
    serializer_class = ClaimDetailSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.WORK_CLAIMS
    pagination_class = ClaimCursorPagination
    filterset_class = ClaimFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Claim]:
        queryset = super().get_queryset()
        if self.action != "list":
            # Services read claim.practice; the detail shows the provider and lines.
            queryset = queryset.select_related("practice", "provider").prefetch_related(
                "lines", "findings"
            )
        return queryset

    def get_serializer_class(self) -> Any:
        return ClaimListSerializer if self.action == "list" else ClaimDetailSerializer

    def filter_queryset(self, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        # Query-string filters narrow the list; one claim is found by its id alone.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.ClaimConflict):
            current = (
                Claim.objects.visible_to(self.request.user, perms.WORK_CLAIMS)
                .filter(pk=self.kwargs.get("pk"))
                .values_list("version", flat=True)
                .first()
            )
            return Response(
                {"detail": str(exc), "current_version": current}, status=status.HTTP_409_CONFLICT
            )
        return super().handle_exception(exc)

    def _input(self, serializer_class: Any, **context: Any) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _detail(self, claim: Claim, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=claim.pk)
        return Response(
            ClaimDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=status_code,
        )

    # -- create / update ------------------------------------------------------------

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data = self._input(ClaimCreateSerializer)
        claim = self.call_service(services.claim_create, **data)
        return self._detail(claim, status.HTTP_201_CREATED)

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        claim = self.get_object()
        data = self._input(ClaimUpdateSerializer, claim=claim)
        # Unsent fields keep their values; if the claim changed meanwhile the version
        # check refuses the whole write, so these values are never stale.
        self.call_service(
            services.claim_set_next_action,
            claim=claim,
            next_action=data.get("next_action", claim.next_action),
            next_action_due=data.get("next_action_due", claim.next_action_due),
            wait_reason=data.get("wait_reason", claim.wait_reason),
            owner=data.get("owner"),
            expected_version=data["version"],
        )
        return self._detail(claim)

    # -- actions on one claim ---------------------------------------------------------

    @extend_schema(
        request=TransitionSerializer,
        responses={200: ClaimDetailSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Any, pk: str | None = None) -> Response:
        """Move the claim along the status machine."""
        claim = self.get_object()
        data = self._input(TransitionSerializer)
        try:
            self.call_service(
                services.claim_transition,
                claim=claim,
                to_status=data["to_status"],
                expected_version=data["version"],
                note=data["note"],
                next_action=data.get("next_action"),
                next_action_due=data.get("next_action_due"),
                wait_reason=data.get("wait_reason"),
            )
        except ValidationError as exc:
            # The service files its refusal under "status"; the request field is to_status.
            if isinstance(exc.detail, dict) and "status" in exc.detail:
                exc.detail["to_status"] = exc.detail.pop("status")
            raise
        return self._detail(claim)

    @extend_schema(
        request=NoteSerializer,
        responses={201: ActivitySerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request: Any, pk: str | None = None) -> Response:
        """Add a note to the timeline."""
        claim = self.get_object()
        data = self._input(NoteSerializer)
        activity = self.call_service(services.claim_add_note, claim=claim, text=data["text"])
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ActivitySerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=ActivityPagination, filter_backends=[])
    def activity(self, request: Any, pk: str | None = None) -> Response:
        """The claim's timeline, newest first."""
        claim = self.get_object()
        page = self.paginate_queryset(claim.activities.select_related("actor"))
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    @extend_schema(
        request=FollowUpSerializer,
        responses={201: ClaimDetailSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request: Any, pk: str | None = None) -> Response:
        """Log a follow-up attempt; answers the claim (new version, follow_up_count)."""
        claim = self.get_object()
        data = self._input(FollowUpSerializer)
        self.call_service(
            services.claim_log_follow_up,
            claim=claim,
            channel=data["channel"],
            contact=data["contact"],
            outcome=data["outcome"],
            next_step=data["next_step"],
            expected_version=data["version"],
        )
        return self._detail(claim, status.HTTP_201_CREATED)

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

    # -- work next --------------------------------------------------------------------

    @extend_schema(
        request=WorkNextSerializer,
        parameters=[
            OpenApiParameter(
                "practice", int, description="Only claims of this practice (query or body)."
            )
        ],
        responses={
            200: ClaimDetailSerializer,
            204: OpenApiResponse(description="Nothing left in your day."),
            404: OpenApiResponse(description="You cannot work claims (of that practice)."),
        },
    )
    @action(detail=False, methods=["post"], url_path="work-next", filter_backends=[])
    def work_next(self, request: Any) -> Response:
        """Hand the caller the top due claim of their day that nobody holds."""
        data = request.data if isinstance(request.data, Mapping) else {}
        source = data or request.query_params
        params = WorkNextSerializer(data={k: source[k] for k in ("practice",) if k in source})
        params.is_valid(raise_exception=True)
        practice_id = params.validated_data.get("practice")
        workable = Practice.objects.visible_to(request.user, perms.WORK_CLAIMS)
        if practice_id is not None:
            workable = workable.filter(pk=practice_id)
        if not workable.exists():
            raise NotFound()
        claim = work.work_next(actor=request.user, practice_id=practice_id)
        if claim is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._detail(claim)
