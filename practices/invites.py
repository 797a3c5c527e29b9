"""Invitations: a manager (any role) or a vendor lead (their own staff) invites a person
by a one-time link that sets the password and enrols the second factor in one step.

The link carries a random token; only its SHA-256 is stored (``Invite.token_hash``). It
expires after ``INVITE_TTL`` and works once: accepting it creates the account, its TOTP
device, and the role or assignment through the access services, with the inviter as the
actor, all in one transaction. An inviter who has since lost the right to grant that
access makes the link fail rather than grant it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_ops.access import has_perm
from practices import permissions as perms
from practices import services
from practices.choices import Role, ServiceArea
from practices.models import Engagement, Invite, Practice, VendorStaff

INVITE_TTL = dt.timedelta(hours=72)
INVALID_LINK = "This invitation link is not valid: it was used, has expired or never existed."

User = get_user_model()


def token_digest(token: str) -> str:
    """The stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_areas(engagement: Engagement, areas: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(areas))
    if not chosen:
        raise ValidationError({"service_areas": "Choose at least one service area."})
    unknown = [a for a in chosen if a not in ServiceArea.values]
    outside = [a for a in chosen if a in ServiceArea.values and a not in engagement.service_areas]
    if unknown or outside:
        raise ValidationError(
            {"service_areas": f"Not in the engagement's scope: {', '.join(unknown + outside)}."}
        )
    return chosen


def _check_username(username: str) -> None:
    if User._default_manager.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    pending = Invite.objects.filter(
        username__iexact=username, accepted_at__isnull=True, expires_at__gt=timezone.now()
    )
    if pending.exists():
        raise ValidationError({"username": "An open invitation already names that username."})


@transaction.atomic
def invite_create(
    *,
    actor: Any,
    practice: Practice,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = "",
    engagement: Engagement | None = None,
    service_areas: Iterable[str] = (),
    ends_on: dt.date | None = None,
) -> tuple[Invite, str]:
    """Create an invitation; returns it and the token for the link (shown or sent once).

    In-house (``role``): managers only. Vendor staff (``engagement`` of this practice, its
    areas, optional end date): managers, or a lead of that vendor on that engagement."""
    if bool(role) == (engagement is not None):
        raise ValidationError("Invite either to an in-house role or to a vendor engagement.")
    areas: list[str] = []
    if engagement is None:
        services.require_practice_perm(actor, perms.MANAGE_ACCESS, practice)
        if role not in Role.values:
            raise ValidationError({"role": f"Unknown role {role!r}."})
    else:
        if engagement.practice_id != practice.pk:
            raise PermissionDenied("That engagement is not at this practice.")
        manager = actor is None or actor.is_superuser
        manager = manager or has_perm(actor, perms.MANAGE_ACCESS, practice.pk)
        if not manager and not services.leads_engagement(actor, engagement):
            raise PermissionDenied("You may not invite staff to this engagement.")
        areas = _check_areas(engagement, service_areas)
        if ends_on is not None and ends_on < timezone.localdate():
            raise ValidationError({"ends_on": "The end date is in the past."})
    username = username.strip()
    _check_username(username)
    token = secrets.token_urlsafe(32)
    invite = Invite(
        practice=practice,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        engagement=engagement,
        service_areas=areas,
        ends_on=ends_on if engagement is not None else None,
        token_hash=token_digest(token),
        expires_at=timezone.now() + INVITE_TTL,
        created_by=actor,
    )
    invite.full_clean()
    invite._history_user = actor  # type: ignore[attr-defined]
    invite.save()
    return invite, token


def invite_send(*, invite: Invite, link: str) -> None:
    """E-mail the link to the invited address (the only place the token travels)."""
    send_mail(
        subject=f"You are invited to billing-ops ({invite.practice})",
        message=(
            f"{invite.created_by.get_full_name() or invite.created_by} invited you to "
            f"billing-ops for {invite.practice}.\n\nSet your password and your two-factor "
            f"sign-in here (the link works once, for 72 hours):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[invite.email],
    )


def open_invite(token: str) -> Invite | None:
    """The unused, unexpired invitation a token opens, or None."""
    return (
        Invite.objects.filter(
            token_hash=token_digest(token), accepted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .select_related("practice", "engagement__vendor", "created_by")
        .first()
    )


def totp_step(key: bytes, code: str) -> int | None:
    """The TOTP time step ``code`` matches for ``key`` (one step either side), or None."""
    if not code.isdigit():
        return None
    totp = TOTP(key)
    if totp.verify(int(code), tolerance=1):
        return int(totp.t())
    return None


@transaction.atomic
def invite_accept(*, token: str, password: str, totp_key: bytes, code: str) -> Any:
    """Use an invitation once: create the account with its password and a confirmed TOTP
    device (``code`` proves the app has ``totp_key``), then its role or assignment with
    the inviter as the actor. Raises ValidationError; nothing is kept on any error."""
    invite = (
        Invite.objects.select_for_update()
        .filter(
            token_hash=token_digest(token), accepted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )
    if invite is None:
        raise ValidationError(INVALID_LINK, code="invalid_link")
    step = totp_step(totp_key, code)
    if step is None:
        raise ValidationError({"code": "That code did not match. Check the time on your phone."})
    if User._default_manager.filter(username__iexact=invite.username).exists():
        raise ValidationError(INVALID_LINK, code="invalid_link")
    user = User(
        username=invite.username,
        email=invite.email,
        first_name=invite.first_name,
        last_name=invite.last_name,
    )
    validate_password(password, user)
    user.set_password(password)
    user._history_user = invite.created_by  # type: ignore[attr-defined]
    user.save()
    TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=totp_key.hex(), confirmed=True, last_t=step
    )
    try:
        if invite.engagement is not None:
            staff = VendorStaff(user=user, vendor=invite.engagement.vendor, is_lead=False)
            staff._history_user = invite.created_by  # type: ignore[attr-defined]
            staff.save()
            services.assignment_set(
                actor=invite.created_by,
                staff=staff,
                engagement=invite.engagement,
                service_areas=invite.service_areas,
                ends_on=invite.ends_on,
            )
        else:
            services.membership_set(
                actor=invite.created_by, user=user, practice=invite.practice, role=invite.role
            )
    except (PermissionDenied, ValidationError):
        # The inviter may no longer grant this (or the end date has passed): leaving the
        # atomic block with the error keeps no account.
        raise ValidationError(INVALID_LINK, code="invalid_link") from None
    invite.accepted_at = timezone.now()
    invite.accepted_user = user
    invite._history_user = user  # type: ignore[attr-defined]
    invite.save(update_fields=["accepted_at", "accepted_user"])
    return user
