"""Admin pages for tenants, people and reference data, with their history.

Writes go through services (``practices.services``), where the rules live: who may act,
which practice a record belongs to, what re-derives access. A ModelAdmin form saves rows
directly, so the admin edits only what no service guards beyond saving the row:
practices (deactivating one hides it at once: the scoping primitive skips inactive
practices), vendors, vendor staff and users (whose saves re-derive access through
``sync_user_access``). Everything else is shown read-only with its history
(``ReadOnlyHistoryAdmin``): memberships, engagements and assignments (access is derived
from them by their services) and the domain records (payers, providers, patients,
coverages, appointments, fee schedules, and the PHI access log, which is append-only).
Change them through the pages, the API or the services. Pages showing patients, coverages
or appointments log the read (``practices.phi_log.PhiReadAdminMixin``).
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from practices import models
from practices.phi_log import PhiReadAdminMixin
from practices.services import sync_user_access


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Shows records and their history; refuses adding, changing, deleting and reverting.

    simple_history's "revert" form (``history/<version>/``) saves with only the view
    permission checked, so its POST is refused here too.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


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


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, re-deriving access when a save changes "Active" or "Superuser
    status", as ``user_set_active`` does: clearing "Active" takes the user's practice
    permissions, and with the last of them their API tokens, in the same request, not at
    the next sync. Other edits (a name, an e-mail) re-derive nothing: a superuser holds no
    practice permissions, and a sync would take their tokens."""

    ACCESS_FIELDS = frozenset({"is_active", "is_superuser"})

    def save_model(self, request, obj, form, change) -> None:  # noqa: ANN001
        super().save_model(request, obj, form, change)
        if not change or self.ACCESS_FIELDS & set(form.changed_data):
            sync_user_access(obj)


@admin.register(models.Engagement)
class EngagementAdmin(ReadOnlyHistoryAdmin):
    list_display = ["vendor", "practice", "service_areas", "starts_on", "ends_on"]
    list_filter = ["vendor", "practice"]
    # Access derives from engagements through practices.services.engagement_set only.


@admin.register(models.Membership)
class MembershipAdmin(ReadOnlyHistoryAdmin):
    list_display = ["user", "practice", "role", "is_active"]
    list_filter = ["practice", "role", "is_active"]
    # Access is derived by services; editing here would bypass re-derivation.


@admin.register(models.Assignment)
class AssignmentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["staff", "engagement", "service_areas", "ends_on", "revoked_at"]
    list_filter = ["engagement__practice"]
    # Assigned and revoked through practices.services (assignment_set, assignment_revoke).


@admin.register(models.Payer)
class PayerAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "practice", "payer_id", "timely_filing_days", "claim_format"]
    list_filter = ["practice", "claim_format"]
    search_fields = ["name", "payer_id"]


@admin.register(models.Provider)
class ProviderAdmin(ReadOnlyHistoryAdmin):
    list_display = ["last_name", "first_name", "practice", "npi", "is_active"]
    list_filter = ["practice"]
    search_fields = ["last_name", "npi"]


@admin.register(models.Patient)
class PatientAdmin(PhiReadAdminMixin, ReadOnlyHistoryAdmin):
    phi_what = "admin patient"
    list_display = ["last_name", "first_name", "practice", "account_number", "date_of_birth"]
    list_filter = ["practice"]
    # The account number only: an admin search travels in the URL (?q=), hence in browser
    # history and access logs, so no names there (issue 8, point 3).
    search_fields = ["=account_number"]


@admin.register(models.Coverage)
class CoverageAdmin(PhiReadAdminMixin, ReadOnlyHistoryAdmin):
    phi_what = "admin coverage"
    list_display = ["patient", "payer", "cob_order", "member_id"]
    list_filter = ["practice", "cob_order"]
    raw_id_fields = ["patient"]


@admin.register(models.Appointment)
class AppointmentAdmin(PhiReadAdminMixin, ReadOnlyHistoryAdmin):
    phi_what = "admin appointment"
    list_display = ["patient", "provider", "starts_at", "status"]
    list_filter = ["practice", "status"]
    raw_id_fields = ["patient"]
    date_hierarchy = "starts_at"


@admin.register(models.FeeScheduleLine)
class FeeScheduleLineAdmin(ReadOnlyHistoryAdmin):
    list_display = ["payer", "procedure_code", "modifier", "allowed_amount", "effective_from"]
    list_filter = ["practice", "payer"]


# knox's own AuthToken admin makes tokens without our record (practices.tokens): no name,
# no via, no expiry rule, no last use, so they do not work here. Tokens are made on the
# tokens page or with the create_api_token command; the admin only lists them.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, read-only: who, which, when made, expiry, last use and revocation (the
    secret is never stored; knox keeps only its hash)."""

    list_display = [
        "user",
        "name",
        "hint",
        "via",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["via", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name"]
    list_select_related = ["user"]
    exclude = ["token"]
    readonly_fields = [
        "user",
        "name",
        "hint",
        "via",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.PhiAccessLog)
class PhiAccessLogAdmin(admin.ModelAdmin):
    # Patients by id only: the log's own list shows no PHI.
    list_display = ["at", "user", "practice", "action", "what", "patient_ids", "path"]
    list_filter = ["practice", "action"]
    readonly_fields = ["at", "user", "practice", "patient_ids", "what", "action", "path"]
    exclude = ["patient"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
