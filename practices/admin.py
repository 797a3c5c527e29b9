"""Admin pages for tenants, people and reference data, with their history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from practices import models
from practices.services import sync_user_access


@admin.register(models.Practice)
class PracticeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    # Deactivating a practice hides it at once (the scoping primitive skips inactive ones).


@admin.register(models.Vendor)
class VendorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "is_active"]
    search_fields = ["name"]


@admin.register(models.VendorStaff)
class VendorStaffAdmin(SimpleHistoryAdmin):
    list_display = ["user", "vendor", "is_lead"]
    list_filter = ["vendor", "is_lead"]
    # vendor and is_lead change what the user may see: re-derive access after a save.
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        super().save_model(request, obj, form, change)
        sync_user_access(obj.user)


@admin.register(models.Engagement)
class EngagementAdmin(SimpleHistoryAdmin):
    list_display = ["vendor", "practice", "service_areas", "starts_on", "ends_on"]
    list_filter = ["vendor", "practice"]
    # Access derives from engagements through practices.services.engagement_set only.
    readonly_fields = [
        "vendor",
        "practice",
        "service_areas",
        "primary_contact",
        "backup_contact",
        "starts_on",
        "ends_on",
    ]

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(models.Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "practice", "role", "is_active"]
    list_filter = ["practice", "role", "is_active"]
    # Access is derived by services; editing here would bypass re-derivation.
    readonly_fields = ["user", "practice", "role", "is_active", "away_until"]

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(models.Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["staff", "engagement", "service_areas", "ends_on", "revoked_at"]
    list_filter = ["engagement__practice"]
    readonly_fields = ["staff", "engagement", "service_areas", "ends_on", "revoked_at"]

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(models.Payer)
class PayerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "practice", "payer_id", "timely_filing_days", "claim_format"]
    list_filter = ["practice", "claim_format"]
    search_fields = ["name", "payer_id"]


@admin.register(models.Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "practice", "npi", "is_active"]
    list_filter = ["practice"]
    search_fields = ["last_name", "npi"]


@admin.register(models.Patient)
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "practice", "account_number", "date_of_birth"]
    list_filter = ["practice"]
    search_fields = ["last_name", "first_name", "account_number"]


@admin.register(models.Coverage)
class CoverageAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "payer", "cob_order", "member_id"]
    list_filter = ["practice", "cob_order"]
    raw_id_fields = ["patient"]


@admin.register(models.Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "provider", "starts_at", "status"]
    list_filter = ["practice", "status"]
    raw_id_fields = ["patient"]
    date_hierarchy = "starts_at"


@admin.register(models.FeeScheduleLine)
class FeeScheduleLineAdmin(SimpleHistoryAdmin):
    list_display = ["payer", "procedure_code", "modifier", "allowed_amount", "effective_from"]
    list_filter = ["practice", "payer"]


@admin.register(models.PhiAccessLog)
class PhiAccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "practice", "patient", "action", "path"]
    list_filter = ["practice", "action"]
    readonly_fields = ["at", "user", "practice", "patient", "action", "path"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
