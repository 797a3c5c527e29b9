"""Admin pages for claims (read-mostly: writes belong to the claim services)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from claims import models


class ClaimLineInline(admin.TabularInline):
    model = models.ClaimLine
    extra = 0
    can_delete = False
    readonly_fields = [
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


@admin.register(models.Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    list_display = [
        "pms_claim_number",
        "practice",
        "payer",
        "status",
        "owner",
        "next_action",
        "next_action_due",
        "total_billed",
    ]
    list_filter = ["practice", "status", "next_action"]
    search_fields = ["pms_claim_number", "patient__last_name"]
    raw_id_fields = ["patient", "coverage", "provider", "payer", "owner", "locked_by"]
    inlines = [ClaimLineInline]

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(models.PayerRule)
class PayerRuleAdmin(SimpleHistoryAdmin):
    list_display = [
        "payer",
        "procedure_code_pattern",
        "required_attachment",
        "required_modifier",
        "is_active",
    ]
    list_filter = ["practice", "is_active"]
