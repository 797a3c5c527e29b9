"""REST endpoints for practices and their reference data, scoped like the pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices import services
from practices.choices import AccessAction
from practices.models import Appointment, Coverage, Patient, Payer, Practice, Provider


class ScopedPracticeField(serializers.PrimaryKeyRelatedField):
    """A practice id the requesting user may write to; any other id reads as not found."""

    def get_queryset(self) -> QuerySet[Practice]:
        request = self.context["request"]
        return Practice.objects.visible_to(request.user, self.context["view"].write_permission)


class PracticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practice
        fields = ["id", "name", "slug", "kind", "group_npi", "is_active"]


class PayerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = [
            "id",
            "practice",
            "name",
            "payer_id",
            "timely_filing_days",
            "appeal_window_days",
            "claim_format",
            "portal_url",
            "phone",
        ]


class PatientSerializer(serializers.ModelSerializer):
    practice = ScopedPracticeField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "practice",
            "account_number",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
        ]
        # Uniqueness is checked by the service's full_clean, in one place.
        validators: list[Any] = []

    def validate_practice(self, practice: Practice) -> Practice:
        if self.instance is not None and practice.pk != self.instance.practice_id:
            raise serializers.ValidationError("A patient cannot move to another practice.")
        return practice


class CoverageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coverage
        fields = [
            "id",
            "practice",
            "patient",
            "payer",
            "member_id",
            "group_number",
            "subscriber_name",
            "subscriber_relationship",
            "cob_order",
            "effective_from",
            "effective_to",
        ]


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = [
            "id",
            "practice",
            "patient",
            "provider",
            "starts_at",
            "duration_minutes",
            "status",
            "planned_procedures",
        ]


class PracticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Practices the caller belongs to or is assigned to."""

    queryset = Practice.objects.filter(is_active=True)
    serializer_class = PracticeSerializer
    scope_permission = perms.VIEW_PRACTICE


class PayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Payers of the caller's practices."""

    queryset = Payer.objects.order_by("practice_id", "name", "pk")
    serializer_class = PayerSerializer
    scope_permission = perms.VIEW_PRACTICE
    filterset_fields = ["practice", "claim_format"]


class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Patients (PHI): every read is written to the access log."""

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    scope_permission = perms.VIEW_PATIENTS
    write_permission = perms.EDIT_PATIENTS
    filterset_fields = ["practice", "account_number"]

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().list(request, *args, **kwargs)
        ids = [row["id"] for row in response.data["results"]]
        services.phi_access_record_many(
            user=request.user,
            patients=Patient.objects.filter(pk__in=ids).only("pk", "practice_id"),
            action=AccessAction.EXPORT,
            path=request.path,  # no query string: filters may name a patient
        )
        return response

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        patient = self.get_object()
        services.phi_access_record(
            user=request.user, patient=patient, action=AccessAction.API, path=request.path
        )
        return Response(self.get_serializer(patient).data)

    def perform_create(self, serializer: PatientSerializer) -> None:
        serializer.instance = self.call_service(
            services.patient_save, patient=Patient(), **serializer.validated_data
        )

    def perform_update(self, serializer: PatientSerializer) -> None:
        serializer.instance = self.call_service(
            services.patient_save, patient=serializer.instance, **serializer.validated_data
        )


class PhiReadLogMixin:
    """Coverages and appointments are PHI too: log each read against its patient."""

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        ids = {row["patient"] for row in response.data["results"]}
        services.phi_access_record_many(
            user=request.user,
            patients=Patient.objects.filter(pk__in=ids).only("pk", "practice_id"),
            action=AccessAction.EXPORT,
            path=request.path,  # no query string: filters may name a patient
        )
        return response

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        instance = self.get_object()  # type: ignore[attr-defined]
        services.phi_access_record(
            user=request.user, patient=instance.patient, action=AccessAction.API, path=request.path
        )
        return Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]


class CoverageViewSet(
    PhiReadLogMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Coverages of visible patients."""

    queryset = Coverage.objects.select_related("patient").order_by("patient_id", "cob_order")
    serializer_class = CoverageSerializer
    scope_permission = perms.VIEW_PATIENTS
    filterset_fields = ["practice", "patient", "payer"]


class WritableRelatedField(serializers.PrimaryKeyRelatedField):
    """A patient or provider of a practice where the caller may write; others: not found."""

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context["request"]
        model = self.context["view"].related_models[self.field_name]
        practices = Practice.objects.visible_to(request.user, perms.EDIT_PATIENTS)
        return model.objects.filter(practice__in=practices)


class AppointmentWriteSerializer(AppointmentSerializer):
    """Create and update: the practice is the patient's; status changes by ``cancel``."""

    patient = WritableRelatedField()
    provider = WritableRelatedField()

    class Meta(AppointmentSerializer.Meta):
        read_only_fields = ["id", "practice", "status"]

    def validate_patient(self, patient: Patient) -> Patient:
        if self.instance is not None and patient.pk != self.instance.patient_id:
            raise serializers.ValidationError("An appointment cannot move to another patient.")
        return patient


class AppointmentViewSet(
    PhiReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Appointments of visible patients; create, update (reschedule) and cancel need
    ``edit_patients`` at the practice (the appointment's eligibility checks follow)."""

    queryset = Appointment.objects.select_related("patient").order_by("starts_at", "pk")
    serializer_class = AppointmentSerializer
    scope_permission = perms.VIEW_PATIENTS
    write_permission = perms.EDIT_PATIENTS
    filterset_fields = ["practice", "patient", "provider", "status"]
    related_models = {"patient": Patient, "provider": Provider}

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "update", "partial_update"):
            return AppointmentWriteSerializer
        return AppointmentSerializer

    def perform_create(self, serializer: AppointmentWriteSerializer) -> None:
        serializer.instance = self.call_service(
            services.appointment_save, appointment=Appointment(), **serializer.validated_data
        )

    def perform_update(self, serializer: AppointmentWriteSerializer) -> None:
        serializer.instance = self.call_service(
            services.appointment_save,
            appointment=serializer.instance,
            **serializer.validated_data,
        )

    @extend_schema(request=None, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Any, pk: str | None = None) -> Response:
        """Cancel a scheduled appointment."""
        appointment = self.get_object()  # 404 unless the caller may edit it
        appointment = self.call_service(services.appointment_cancel, appointment=appointment)
        return Response(
            AppointmentSerializer(appointment, context=self.get_serializer_context()).data
        )
