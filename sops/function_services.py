"""Writes and reads of billing functions: who owns what, and who performs it.

Only managers (``manage_sops``) set a function; every change is kept with its author in
the function's history. Owner, backup and escalation contact must be people who can see
the practice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from billing_ops.access import has_perm, holders, visible_practice_ids
from practices import permissions as perms
from sops.choices import FUNCTION_PERMISSION, BillingFunctionKind, Sourcing
from sops.models import BillingFunction

if TYPE_CHECKING:
    from billing_ops.access import Actor


def require_manager(actor: Actor, practice_id: int) -> None:
    """Refuse unless the actor (None: the system) manages SOPs at the practice."""
    if actor is not None and not has_perm(actor, perms.MANAGE_SOPS, practice_id):
        raise PermissionDenied("Only the practice's managers change billing functions and SOPs.")


def _check_person(field: str, user: Any, practice_id: int, errors: dict[str, str]) -> None:
    if user is not None and not has_perm(user, perms.VIEW_PRACTICE, practice_id):
        errors[field] = f"{user} does not work at this practice."


@transaction.atomic
def billing_function_set(
    *,
    actor: Actor,
    practice: Any,
    kind: str,
    owner: Any,
    backup: Any = None,
    escalation_contact: Any = None,
    sourcing: str = Sourcing.IN_HOUSE,
    turnaround_days: int = 2,
    how_to_reach: str = "",
) -> BillingFunction:
    """Create or change the practice's function of one kind (one per kind)."""
    require_manager(actor, practice.pk)
    errors: dict[str, str] = {}
    if kind not in BillingFunctionKind.values:
        errors["kind"] = f"Unknown billing function {kind!r}."
    if sourcing not in Sourcing.values:
        errors["sourcing"] = "Choose in-house or vendor."
    if owner is None:
        errors["owner"] = "Every billing function needs one owner."
    _check_person("owner", owner, practice.pk, errors)
    _check_person("backup", backup, practice.pk, errors)
    _check_person("escalation_contact", escalation_contact, practice.pk, errors)
    if owner is not None and backup is not None and owner.pk == backup.pk:
        errors["backup"] = "The backup must be somebody other than the owner."
    if not 0 < turnaround_days <= 90:
        errors["turnaround_days"] = "The turnaround is 1 to 90 days."
    if errors:
        raise ValidationError(errors)
    function = (
        BillingFunction.objects.select_for_update().filter(practice=practice, kind=kind).first()
    )
    if function is None:
        function = BillingFunction(practice=practice, kind=kind)
    function.owner = owner
    function.backup = backup
    function.escalation_contact = escalation_contact
    function.sourcing = sourcing
    function.turnaround_days = turnaround_days
    function.how_to_reach = how_to_reach.strip()
    function._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    function.save()
    # Owner or backup changed: the SOP's current version needs their sign-off too.
    from sops.sop_services import sign_off_requests_sync  # one level down, no cycle at import

    sign_off_requests_sync(function, actor)
    return function


def performers(function: BillingFunction) -> list[int]:
    """Who performs the function (ids): its owner and backup, and everybody who holds the
    function's work permission at the practice without managing it (managers hold every
    permission; they sign when they own or back up the function)."""
    permission = FUNCTION_PERMISSION[function.kind]
    managers = holders(perms.MANAGE_SOPS, function.practice_id).values("pk")
    workers = holders(permission, function.practice_id).exclude(pk__in=managers)
    ids = [function.owner_id, function.backup_id, *workers.values_list("pk", flat=True)]
    return sorted({user_id for user_id in ids if user_id is not None})


def readable_condition(user: Any, prefix: str = "") -> Q:
    """Rows (functions, or SOPs through ``prefix``) the user may read: the functions whose
    work permission the user holds at their practice, and every function where the user
    manages SOPs."""
    condition = Q(**{f"{prefix}practice_id__in": visible_practice_ids(user, perms.MANAGE_SOPS)})
    for kind, permission in FUNCTION_PERMISSION.items():
        ids = visible_practice_ids(user, permission)
        if ids:
            condition |= Q(**{f"{prefix}kind": kind, f"{prefix}practice_id__in": ids})
    return condition


def readable_functions(user: Any) -> QuerySet[BillingFunction]:
    """Functions whose SOPs the user may read."""
    return BillingFunction.objects.filter(readable_condition(user))
