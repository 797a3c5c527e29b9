"""Account administration pages: people of the current practice, invitations, role and
area changes, end dates, and revocation with a handover of the person's open work.

Managers (``manage_access``) act on everybody at the current practice; vendor leads on
their own vendor's staff there (``practices.people_services``). Everybody else gets 404,
like for any object outside their scope. Every write is a service call with the user as
the actor, after a fresh step-up (``practices.stepup``). Forms carry the practice they
were shown for: a form posted after switching practice in another tab is refused.

The invitation link's page (``/account/invite/<token>/``) is an account page: the person
has no account yet, so it is open to anonymous visitors and answers only to the token.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from billing_ops.access import acting_user, request_access
from billing_ops.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import handover, invites, people_services
from practices import permissions as perms
from practices.choices import Role, ServiceArea
from practices.models import Assignment, Engagement, Invite, Membership
from practices.selectors import access_rows
from practices.stepup import record_step_up, step_up_response

User = get_user_model()


# --- forms ------------------------------------------------------------------------------


class PracticeBoundForm(forms.Form):
    """Carries the practice the form was shown for (checked against the current one)."""

    practice = forms.IntegerField(widget=forms.HiddenInput)


class InviteForm(PracticeBoundForm):
    """Who to invite, and to what: a role, or a vendor engagement with areas and end date."""

    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False)
    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, engagements: Any, may_set_role: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engagement_field: Any = self.fields["engagement"]
        engagement_field.queryset = engagements
        if not may_set_role:
            del self.fields["role"]


class RoleForm(PracticeBoundForm):
    role = forms.ChoiceField(choices=Role.choices)


def _people_choice(field: Any, candidates: list[Any]) -> None:
    field.queryset = User._default_manager.filter(pk__in=[u.pk for u in candidates])
    field.label_from_instance = lambda u: u.get_full_name() or u.get_username()


class AssignmentForm(PracticeBoundForm):
    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices, widget=forms.CheckboxSelectMultiple
    )
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    successor = forms.ModelChoiceField(
        queryset=User._default_manager.none(),
        required=False,
        label="Takes their open work over when it ends",
        help_text="Needed with an end date while they own open items: everything moves to "
        "this person when the end takes effect.",
    )

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if candidates:
            _people_choice(self.fields["successor"], candidates)
        else:
            del self.fields["successor"]


class RevokeForm(PracticeBoundForm):
    new_owner = forms.ModelChoiceField(queryset=User._default_manager.none(), required=False)

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_choice(self.fields["new_owner"], candidates)


class AcceptForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Six-digit code",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


# --- helpers ----------------------------------------------------------------------------


def _admin_practice(request: HttpRequest) -> Any:
    """The current practice, if the user manages people there (else 404)."""
    practice = request_access(request).practice
    if practice is None:
        raise Http404("Not found.")
    try:
        people_services.require_people_admin(request.user, practice.pk)
    except PermissionDenied:
        raise Http404("Not found.") from None
    return practice


def _same_practice(form: PracticeBoundForm, practice: Any) -> None:
    if form.is_bound and form.data.get("practice") != str(practice.pk):
        raise Http404("Not found.")


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error.messages if target is None else error)
    else:
        form.add_error(None, exc)


def _run(form: forms.Form, func: Any, **kwargs: Any) -> Any:
    """A service call: refused access is a 404, a refused change an error on the form."""
    try:
        return func(**kwargs), True
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ValidationError as exc:
        _apply_errors(form, exc)
        return None, False


# --- pages ------------------------------------------------------------------------------


@scoped_page(perms.VIEW_PRACTICE)
def people(request: HttpRequest) -> HttpResponse:
    """Everybody the user may manage at the current practice, and open invitations."""
    practice = _admin_practice(request)
    user = request.user
    manager = people_services.manages_practice(user, practice.pk) or user.is_superuser
    rows = access_rows(practice) if manager else {"memberships": Membership.objects.none()}
    invitations = Invite.objects.filter(
        practice=practice, accepted_at__isnull=True, expires_at__gt=timezone.now()
    )
    if not manager:
        invitations = invitations.filter(created_by=user)
    context = {
        "practice": practice,
        "manager": manager,
        "memberships": rows["memberships"],
        "assignments": people_services.manageable_assignments(user, practice.pk),
        "invitations": invitations.select_related("engagement__vendor")[:50],
    }
    return render(request, "practices/people/people.html", context)


@scoped_page(perms.VIEW_PRACTICE)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    """Invite a person: a role (managers), or vendor staff on an engagement (managers, and
    leads for their own vendor's engagements)."""
    practice = _admin_practice(request)
    user = acting_user(request)
    manager = people_services.manages_practice(user, practice.pk) or user.is_superuser
    if manager:
        engagements = Engagement.objects.filter(practice=practice).select_related("vendor")
    else:
        engagements = people_services.lead_engagements(user, practice.pk)
    stale = step_up_response(request)
    if stale is not None:
        return stale
    form = InviteForm(
        request.POST or None,
        initial={"practice": practice.pk},
        engagements=engagements,
        may_set_role=manager,
    )
    _same_practice(form, practice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created, ok = _run(
            form,
            invites.invite_create,
            actor=user,
            practice=practice,
            username=data["username"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            role=data.get("role") or "",
            engagement=data["engagement"],
            service_areas=data["service_areas"],
            ends_on=data["ends_on"],
        )
        if ok:
            invitation, token = created
            link = request.build_absolute_uri(reverse("invite-accept", args=[token]))
            invites.invite_send(invite=invitation, link=link)
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("people")
    return render(
        request,
        "practices/people/invite.html",
        {"form": form, "practice": practice, "manager": manager},
    )


@scoped_page(perms.MANAGE_ACCESS)
@require_http_methods(["GET", "POST"])
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an in-house member's role (managers, at the current practice)."""
    practice = request_access(request).practice
    queryset = Membership.objects.visible_to(request.user, perms.MANAGE_ACCESS).filter(
        practice=practice, is_active=True
    )
    membership = get_scoped_or_404(queryset.select_related("user", "practice"), pk=pk)
    stale = step_up_response(request)
    if stale is not None:
        return stale
    form = RoleForm(
        request.POST or None, initial={"practice": practice.pk, "role": membership.role}
    )
    _same_practice(form, practice)
    if request.method == "POST" and form.is_valid():
        _, ok = _run(
            form,
            people_services.membership_change_role,
            actor=acting_user(request),
            membership=membership,
            role=form.cleaned_data["role"],
        )
        if ok:
            messages.success(request, f"{membership.user}'s role is changed.")
            return redirect("people")
    context = {"form": form, "practice": practice, "membership": membership}
    return render(request, "practices/people/membership_edit.html", context)


def _assignment(request: HttpRequest, pk: int) -> tuple[Any, Assignment]:
    practice = _admin_practice(request)
    queryset = people_services.manageable_assignments(request.user, practice.pk)
    return practice, get_scoped_or_404(queryset, pk=pk)


@scoped_page(perms.VIEW_PRACTICE)
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change vendor staff's service areas and end date (the engagement bounds the areas)."""
    practice, assignment = _assignment(request, pk)
    stale = step_up_response(request)
    if stale is not None:
        return stale
    person = assignment.staff.user
    open_work = handover.open_work(person, practice.pk)
    candidates = handover.successor_candidates(person, practice.pk) if open_work else []
    initial = {
        "practice": practice.pk,
        "service_areas": assignment.service_areas,
        "ends_on": assignment.ends_on,
        "successor": assignment.successor_id,
    }
    form = AssignmentForm(request.POST or None, initial=initial, candidates=candidates)
    _same_practice(form, practice)
    if request.method == "POST" and form.is_valid():
        _, ok = _run(
            form,
            people_services.assignment_change,
            actor=acting_user(request),
            assignment=assignment,
            service_areas=form.cleaned_data["service_areas"],
            ends_on=form.cleaned_data["ends_on"],
            successor=form.cleaned_data.get("successor"),
        )
        if ok:
            messages.success(request, f"{person}'s assignment is changed.")
            return redirect("people")
    context = {
        "form": form,
        "practice": practice,
        "assignment": assignment,
        "open_work": open_work,
        "open_total": sum(open_work.values()),
    }
    return render(request, "practices/people/assignment_edit.html", context)


def _revoke_page(
    request: HttpRequest, practice: Any, person: Any, func: Any, **target: Any
) -> HttpResponse:
    stale = step_up_response(request)
    if stale is not None:
        return stale
    open_work = handover.open_work(person, practice.pk)
    candidates = handover.successor_candidates(person, practice.pk) if open_work else []
    form = RevokeForm(
        request.POST or None, initial={"practice": practice.pk}, candidates=candidates
    )
    _same_practice(form, practice)
    if request.method == "POST" and form.is_valid():
        moved, ok = _run(
            form,
            func,
            actor=acting_user(request),
            new_owner=form.cleaned_data["new_owner"],
            **target,
        )
        if ok:
            note = (
                f" {moved} open item(s) moved to {form.cleaned_data['new_owner']}." if moved else ""
            )
            messages.success(request, f"{person}'s access is revoked.{note}")
            return redirect("people")
    context = {
        "form": form,
        "practice": practice,
        "person": person,
        "open_work": open_work,
        "open_total": sum(open_work.values()),
    }
    return render(request, "practices/people/revoke.html", context)


@scoped_page(perms.MANAGE_ACCESS)
@require_http_methods(["GET", "POST"])
def membership_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke an in-house member, handing their open work over in the same step."""
    practice = request_access(request).practice
    queryset = Membership.objects.visible_to(request.user, perms.MANAGE_ACCESS).filter(
        practice=practice, is_active=True
    )
    membership = get_scoped_or_404(queryset.select_related("user", "practice"), pk=pk)
    return _revoke_page(
        request,
        practice,
        membership.user,
        people_services.membership_revoke_with_handover,
        membership=membership,
    )


@scoped_page(perms.VIEW_PRACTICE)
@require_http_methods(["GET", "POST"])
def assignment_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke vendor staff's assignment, handing their open work over in the same step."""
    practice, assignment = _assignment(request, pk)
    return _revoke_page(
        request,
        practice,
        assignment.staff.user,
        people_services.assignment_revoke_with_handover,
        assignment=assignment,
    )


# --- the invitation link (an account page) ------------------------------------------------

INVITE_KEY_SESSION = "invite_totp_keys"


def _totp_key(request: HttpRequest, invitation: Invite) -> bytes:
    """The authenticator key offered for this invitation, kept in the session until used."""
    keys = request.session.get(INVITE_KEY_SESSION, {})
    key = keys.get(str(invitation.pk))
    if key is None:
        key = secrets.token_hex(20)
        keys[str(invitation.pk)] = key
        request.session[INVITE_KEY_SESSION] = keys
    return bytes.fromhex(key)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Set the password and enrol the authenticator app; the account then exists, signed
    in and verified. The link works once and for ``INVITE_TTL``."""
    invitation = invites.open_invite(token)
    if invitation is None:
        return render(
            request,
            "practices/people/invite_invalid.html",
            {"reason": invites.INVALID_LINK},
            status=404,
        )
    key = _totp_key(request, invitation)
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invites.invite_accept(
                token=token,
                password=form.cleaned_data["password"],
                totp_key=key,
                code=form.cleaned_data["code"].strip(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            request.session.pop(INVITE_KEY_SESSION, None)
            login(request, user, backend="practices.backends.UserBackend")
            otp_login(request, TOTPDevice.objects.get(user=user, confirmed=True))
            now = int(time.time())
            request.session[SESSION_STARTED] = now
            request.session[SESSION_LAST_SEEN] = now
            record_step_up(request)  # password and code were just given: a fresh step-up
            messages.success(request, "Welcome. Keep a set of recovery codes somewhere safe.")
            return redirect("mfa-recovery-codes")
    svg = io.BytesIO()
    write_qrcode_image(_config_url(key, invitation.username), svg)
    context = {
        "form": form,
        "invitation": invitation,
        "qr_src": "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode(),
        "secret": base64.b32encode(key).decode(),
    }
    return render(request, "practices/people/invite_accept.html", context)


def _config_url(key: bytes, username: str) -> str:
    """The otpauth:// URL for a key whose account does not exist yet (the defaults of
    django-otp's TOTPDevice: SHA-1, six digits, 30-second steps)."""
    issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "billing-ops"))
    params = {
        "secret": base64.b32encode(key).decode(),
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
        "issuer": issuer,
    }
    return f"otpauth://totp/{quote(f'{issuer}:{username}')}?{urlencode(params)}"
