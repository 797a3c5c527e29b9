"""SOP writes: a new version per edit, sign-offs, and the sign-off work items.

``sop_save`` (managers) writes the next version of a function's SOP with a summary of the
change; the performers of the function (``function_services.performers``) then each get a
``SopSignOffRequest`` work item until they sign that version (``sop_sign_off``). A newer
version supersedes the open requests of older ones. ``sop_diff`` shows what changed
between two versions (escaped HTML).
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sops.choices import SignOffAction, SignOffStatus
from sops.function_services import performers, readable_condition, require_manager
from sops.models import BillingFunction
from sops.sop_models import Sop, SopSignOff, SopSignOffRequest, SopVersion
from work.services import save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

# Days a performer has to sign a new version.
SIGN_OFF_DAYS = 7
ELEMENTS = (
    "objective",
    "steps",
    "owner",
    "timeline",
    "escalation_path",
    "payer_requirements",
)


def readable_condition_sop(user: Any) -> Q:
    """SOP rows the user may read: those of functions they perform, all for managers."""
    return readable_condition(user, "function__")


def readable_sops(user: Any) -> QuerySet[Sop]:
    """SOPs the user may read: those of functions they perform, all for managers."""
    return Sop.objects.filter(readable_condition_sop(user))


def _clean_steps(steps: list[str]) -> list[str]:
    return [" ".join(str(step).split()) for step in steps if str(step).strip()]


@transaction.atomic
def sop_save(
    *,
    actor: Actor,
    function: BillingFunction,
    objective: str,
    steps: list[str],
    owner: Any,
    timeline: str,
    escalation_path: str,
    change_summary: str,
    payer_requirements: str = "",
    title: str = "",
    today: dt.date | None = None,
) -> SopVersion:
    """Write the next version of the function's SOP (the first one creates the SOP)."""
    require_manager(actor, function.practice_id)
    steps = _clean_steps(steps)
    errors: dict[str, str] = {}
    for field, value in (
        ("objective", objective),
        ("timeline", timeline),
        ("escalation_path", escalation_path),
        ("change_summary", change_summary),
    ):
        if not value.strip():
            errors[field] = "Required."
    if not steps:
        errors["steps"] = "Write at least one step."
    if owner is None:
        errors["owner"] = "Name the SOP's owner."
    if errors:
        raise ValidationError(errors)
    sop = Sop.objects.select_for_update().filter(function=function).first()
    if sop is None:
        sop = Sop.objects.create(
            practice_id=function.practice_id,
            function=function,
            title=title.strip() or f"{function.get_kind_display()} SOP",
        )
    elif title.strip() and title.strip() != sop.title:
        sop.title = title.strip()
        sop.save(update_fields=["title"])
    current = sop.current_version()
    new = SopVersion(
        sop=sop,
        number=(current.number if current else 0) + 1,
        objective=objective.strip(),
        steps=steps,
        owner=owner,
        timeline=timeline.strip(),
        escalation_path=escalation_path.strip(),
        payer_requirements=payer_requirements.strip(),
        change_summary=change_summary.strip(),
        created_by=actor,
    )
    unchanged = current is not None and current.owner_id == new.owner_id
    if unchanged and all(getattr(current, f) == getattr(new, f) for f in ELEMENTS if f != "owner"):
        raise ValidationError("Nothing changed: the current version says the same.")
    new.save()
    sign_off_requests_sync(function, actor, today)
    return new


def sign_off_requests_sync(
    function: BillingFunction, actor: Actor, today: dt.date | None = None
) -> int:
    """Open a sign-off request for each performer who has neither signed the current
    version nor a request for it; close requests of older versions as superseded.
    Idempotent; returns how many requests it opened."""
    sop = Sop.objects.filter(function=function).first()
    current = sop.current_version() if sop is not None else None
    if current is None:
        return 0
    today = today or timezone.localdate()
    stale = SopSignOffRequest.objects.filter(
        sop_version__sop=sop, status=SignOffStatus.OPEN
    ).exclude(sop_version=current)
    for request in stale.select_for_update():
        _close(request, SignOffStatus.SUPERSEDED, actor)
    signed = set(current.sign_offs.values_list("user_id", flat=True))
    pending = set(
        current.requests.filter(status=SignOffStatus.OPEN).values_list("owner_id", flat=True)
    )
    opened = 0
    for user_id in performers(function):
        if user_id in signed or user_id in pending:
            continue
        request = SopSignOffRequest(
            practice_id=function.practice_id,
            sop_version=current,
            owner_id=user_id,
            next_action=SignOffAction.SIGN_OFF,
            next_action_due=today + dt.timedelta(days=SIGN_OFF_DAYS),
        )
        save_checked(request, actor, today)
        opened += 1
    return opened


def sign_off_requests_withdraw(requests: list[SopSignOffRequest], actor: Actor) -> None:
    """A performer's access to the practice ended: their open sign-off requests are closed
    as withdrawn rather than handed to somebody else (a sign-off is the person's own; the
    function's owner and backup have their own requests). Called by the work core's
    handover with the rows already locked."""
    for request in requests:
        _close(request, SignOffStatus.WITHDRAWN, actor)


def _close(request: SopSignOffRequest, status: str, actor: Actor) -> None:
    request.status = status
    request.next_action, request.next_action_due, request.wait_reason = "", None, ""
    request.closed_at = timezone.now()
    save_checked(request, actor)


@transaction.atomic
def sop_sign_off(*, actor: Actor, version: SopVersion) -> SopSignOff:
    """The actor read the current version and signs it off (again: the same sign-off)."""
    if actor is None:
        raise PermissionDenied("A sign-off is a person's.")
    sop = Sop.objects.select_for_update().select_related("function").get(pk=version.sop_id)
    if not readable_sops(actor).filter(pk=sop.pk).exists():
        raise PermissionDenied("You do not perform this function.")
    current = sop.current_version()
    if current is None or current.pk != version.pk:
        raise ValidationError("A newer version exists: read and sign that one.")
    existing = SopSignOff.objects.filter(version=version, user=actor).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            sign_off = SopSignOff.objects.create(version=version, user=actor)
    except IntegrityError:
        return SopSignOff.objects.get(version=version, user=actor)
    for request in version.requests.filter(
        owner=actor, status=SignOffStatus.OPEN
    ).select_for_update():
        _close(request, SignOffStatus.SIGNED, actor)
    return sign_off


def sop_diff(old: SopVersion, new: SopVersion) -> SafeString:
    """A line diff of two versions as HTML, every line escaped."""
    lines = difflib.unified_diff(
        old.as_text().splitlines(),
        new.as_text().splitlines(),
        fromfile=f"version {old.number}",
        tofile=f"version {new.number}",
        lineterm="",
    )
    out = []
    for line in lines:
        css = ""
        if line.startswith("+") and not line.startswith("+++"):
            css = "diff-add text-success"
        elif line.startswith("-") and not line.startswith("---"):
            css = "diff-del text-danger"
        elif line.startswith("@@"):
            css = "text-body-secondary"
        out.append(f'<span class="{css}">{escape(line)}</span>')
    return mark_safe("\n".join(out))  # noqa: S308  # every line escaped above
