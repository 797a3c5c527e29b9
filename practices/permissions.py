"""The catalogue of practice-level permissions and how roles and service areas map onto it.

Every permission is granted on a Practice object (django-guardian) and derived only from
memberships and assignments by ``practices.services.access.sync_user_access``.
"""

from practices.choices import Role, ServiceArea

VIEW_PRACTICE = "view_practice"
VIEW_PATIENTS = "view_patients"
WORK_CLAIMS = "work_claims"
VIEW_CLINICAL_ATTACHMENTS = "view_clinical_attachments"
POST_PAYMENTS = "post_payments"
WORK_PATIENT_BILLING = "work_patient_billing"
APPROVE_ADJUSTMENTS = "approve_adjustments"
VERIFY_ELIGIBILITY = "verify_eligibility"
WORK_RECARE = "work_recare"
MANAGE_SOPS = "manage_sops"
VIEW_KPIS = "view_kpis"
MANAGE_ACCESS = "manage_access"
EDIT_PATIENTS = "edit_patients"

# (codename, label) pairs declared on Practice.Meta.permissions; view_practice is Django's.
CUSTOM_PERMISSIONS = [
    (VIEW_PATIENTS, "View patients, coverages and appointments (PHI)"),
    (EDIT_PATIENTS, "Create and edit patients, coverages and appointments"),
    (WORK_CLAIMS, "Work claims and denials"),
    (VIEW_CLINICAL_ATTACHMENTS, "View clinical attachments"),
    (POST_PAYMENTS, "Post payments and remittances"),
    (WORK_PATIENT_BILLING, "Work patient balances, statements and payment plans"),
    (APPROVE_ADJUSTMENTS, "Approve write-offs, refunds and adjustments"),
    (VERIFY_ELIGIBILITY, "Verify eligibility and prior authorizations"),
    (WORK_RECARE, "Work the recare list"),
    (MANAGE_SOPS, "Manage SOPs, payer rules and billing functions"),
    (VIEW_KPIS, "View the KPI dashboard"),
    (MANAGE_ACCESS, "Manage who has access"),
]

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.FRONT_DESK: frozenset(
        {VIEW_PRACTICE, VIEW_PATIENTS, EDIT_PATIENTS, VERIFY_ELIGIBILITY, WORK_PATIENT_BILLING}
    ),
    Role.BILLER: frozenset(
        {
            VIEW_PRACTICE,
            VIEW_PATIENTS,
            EDIT_PATIENTS,
            WORK_CLAIMS,
            VIEW_CLINICAL_ATTACHMENTS,
            POST_PAYMENTS,
            WORK_PATIENT_BILLING,
            VERIFY_ELIGIBILITY,
        }
    ),
    Role.PRACTICE_MANAGER: frozenset({VIEW_PRACTICE}.union(code for code, _ in CUSTOM_PERMISSIONS)),
}

# Vendor staff: only the non-clinical work of their service areas; never approvals,
# clinical attachments, SOP ownership or access management.
SERVICE_AREA_PERMISSIONS: dict[str, frozenset[str]] = {
    ServiceArea.INSURANCE_BILLING: frozenset(
        {VIEW_PRACTICE, VIEW_PATIENTS, WORK_CLAIMS, POST_PAYMENTS}
    ),
    ServiceArea.PATIENT_BILLING: frozenset({VIEW_PRACTICE, VIEW_PATIENTS, WORK_PATIENT_BILLING}),
    ServiceArea.INSURANCE_VERIFICATION: frozenset(
        {VIEW_PRACTICE, VIEW_PATIENTS, VERIFY_ELIGIBILITY}
    ),
    ServiceArea.RECARE: frozenset({VIEW_PRACTICE, VIEW_PATIENTS, WORK_RECARE}),
}
VENDOR_LEAD_EXTRA = frozenset({VIEW_KPIS})
NEVER_FOR_VENDORS = frozenset(
    {VIEW_CLINICAL_ATTACHMENTS, APPROVE_ADJUSTMENTS, MANAGE_ACCESS, MANAGE_SOPS}
)


def perm(codename: str) -> str:
    """The full permission name as guardian expects it."""
    return f"practices.{codename}"
