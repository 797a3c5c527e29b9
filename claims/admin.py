"""Admin pages for claims and payer rules: read-only, with their history.

Claims are written by ``claims.services`` only (the status machine, the next-action
invariant, optimistic locking and the timeline entry naming the actor); a ModelAdmin form
would save the row around all of that, so the admin shows claims and refuses adding,
changing, deleting and history reverts (``ReadOnlyHistoryAdmin``). Payer rules are
likewise shown read-only: they change what the scrubber requires of every claim of the
payer, and no admin action goes through a service for them yet.
"""

from django.contrib import admin

from claims import models
from practices.admin import ReadOnlyHistoryAdmin
from practices.phi_log import PhiReadAdminMixin


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
class ClaimAdmin(PhiReadAdminMixin, ReadOnlyHistoryAdmin):
    phi_what = "admin claim"
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
    # Identifiers only: an admin search travels in the URL (?q=), hence in browser history
    # and access logs, so no patient names (issue 8, point 3): the claim number or the
    # patient's account number, exact.
    search_fields = ["=pms_claim_number", "=patient__account_number"]
    raw_id_fields = ["patient", "coverage", "provider", "payer", "owner", "locked_by"]
    inlines = [ClaimLineInline]


@admin.register(models.PayerRule)
class PayerRuleAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "payer",
        "procedure_code_pattern",
        "required_attachment",
        "required_modifier",
        "is_active",
    ]
    list_filter = ["practice", "is_active"]
