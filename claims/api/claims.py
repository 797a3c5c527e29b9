"""ClaimViewSet: queues, detail, create, next action, transitions, notes, follow-ups,
attachments (``claims.api.attachments``) and "work next" — every write through the claim
services.

Scope is ``work_claims`` throughout: a claim of a practice the caller cannot work answers
404 exactly like a missing one, and ids of other practices' rows in a request body read as
"Invalid pk". A stale ``version`` answers 409 with the current version; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from billing_ops.filters import ScopedFilterBackend
from claims import attachments as claim_attachments
from claims import services
from claims.api import list_reads
from claims.api.attachments import ClaimAttachmentActions
from claims.api.filters import ClaimFilter, queue_only
from claims.api.inputs import (
    ClaimCreateSerializer,
    ClaimUpdateSerializer,
    FollowUpSerializer,
    NoteSerializer,
    TransitionSerializer,
    WorkNextSerializer,
)
from claims.api.pagination import ActivityPagination, ClaimCursorPagination
from claims.api.responses import BAD_REQUEST, CONFLICT, NOT_FOUND
from claims.api.rows import LIST_COLUMNS, claim_value_rows
from claims.api.serializers import ActivitySerializer, ClaimDetailSerializer, ClaimListSerializer
from claims.models import Claim
from claims.queues import claims_in_queue
from practices import permissions as perms
from practices.choices import AccessAction
from practices.models import Practice
from practices.phi_log import PhiReadViewSetMixin, record_read
from work import services as work_services


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
class ClaimViewSet(
    PhiReadViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ClaimAttachmentActions
):
    """Claims of the practices where the caller holds ``work_claims``."""

    phi_what = "claims API"
    phi_object_actions = frozenset({"retrieve", "activity", "attachments"})

    queryset = Claim.objects.select_related("patient", "payer", "owner")
    serializer_class = ClaimDetailSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.WORK_CLAIMS
    pagination_class = ClaimCursorPagination
    filterset_class = ClaimFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Claim]:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.select_related("practice", "provider").prefetch_related(
                "lines", "findings"
            )
        elif self.action == "list":
            # Only the columns the rows read (claims.api.rows), not the whole of four tables.
            queryset = queryset.only(*LIST_COLUMNS)
        else:
            # Services read claim.practice; the response is read afresh afterwards.
            queryset = queryset.select_related("practice")
        return queryset

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # (No docstring: it would become the operation's description in the schema.)
        # A queue alone (filters.queue_only): its claims by claims_in_queue, the page read as
        # values, by the statement kept for the list's shape where there is one
        # (claims.api.list_reads); any other list through the filterset and the ORM's
        # instances (ListModelMixin.list).
        slug = queue_only(request.query_params)
        # The fast path stands for the filterset's backend only: a list with another
        # backend (ordering, search) goes through them all.
        if slug is None or list(self.filter_backends) != [ScopedFilterBackend]:
            return super().list(request, *args, **kwargs)
        today = timezone.localdate()

        def queue_claims() -> QuerySet[Claim]:
            return claims_in_queue(slug, request.user, self.get_queryset(), today)

        paginator = self.paginator
        assert isinstance(paginator, ClaimCursorPagination)
        kept = list_reads.shape(slug, request.user, today)
        page = paginator.paginate(queue_claims, Claim, request, as_values=True, kept=kept)
        # What PhiReadViewSetMixin.paginate_queryset logs for a list page.
        record_read(request, page, what=f"{self.phi_what} list", action=AccessAction.API)
        return paginator.get_paginated_response(claim_value_rows(page, today))

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
        fresh = (
            Claim.objects.select_related(
                "practice", "provider", "patient", "payer", "owner", "locked_by"
            )
            .prefetch_related("lines", "findings")
            .get(pk=claim.pk)
        )
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
        """The claim's timeline, newest first; entries about clinical attachments only with
        view_clinical_attachments."""
        claim = self.get_object()
        page = self.paginate_queryset(claim_attachments.visible_activities(request.user, claim))
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
        claim = work_services.work_next(
            actor=request.user, practice_id=practice_id, types=["claim"]
        )
        if claim is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._detail(claim)
