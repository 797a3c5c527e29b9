"""SOP pages: the list, one SOP (any version, its sign-offs), the diff between versions,
signing off, and the managers' edit form (which writes a new version).

Reading needs ``view_practice`` and the SOP must be one of a function the user performs
(``sop_services.readable_sops``; managers read all); editing needs ``manage_sops``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_ops.access import has_perm, holders, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import permissions as perms
from sops import forms, sop_services
from sops.choices import BillingFunctionKind, SignOffStatus
from sops.models import BillingFunction
from sops.queues import SIGN_OFF
from sops.sop_models import Sop, SopSignOff, SopSignOffRequest, SopVersion
from sops.views import _actor, form_errors


def _sops(request: HttpRequest) -> QuerySet[Sop]:
    practice = request_access(request).practice
    return (
        sop_services.readable_sops(request.user)
        .visible_to(request.user, perms.VIEW_PRACTICE)
        .of_practice(practice.pk)
    )


def _sop(request: HttpRequest, pk: int) -> Sop:
    sop: Sop = get_scoped_or_404(_sops(request).select_related("function"), pk=pk)
    return sop


@scoped_page(perms.VIEW_PRACTICE)
@require_GET
def sop_list(request: HttpRequest) -> HttpResponse:
    """The SOPs of the functions the user performs (all of them for managers)."""
    sops = list(
        _sops(request)
        .select_related("function", "function__owner")
        .annotate(current_number=Max("versions__number"), current_at=Max("versions__created_at"))
    )
    signed = set(
        SopSignOff.objects.filter(user=request.user, version__sop__in=sops).values_list(
            "version__sop_id", "version__number"
        )
    )
    rows = [(sop, (sop.pk, sop.current_number) in signed) for sop in sops]
    practice = request_access(request).practice
    context = {"rows": rows, "can_edit": has_perm(request.user, perms.MANAGE_SOPS, practice.pk)}
    return render(request, "sops/sop_list.html", context)


def _render_version(
    request: HttpRequest, sop: Sop, version: SopVersion | None, status: int = 200
) -> HttpResponse:
    versions = list(sop.versions.select_related("created_by").order_by("-number"))
    current = versions[0] if versions else None
    version = version or current
    if version is None:
        raise Http404("Not found.")
    sign_offs = version.sign_offs.select_related("user")
    pending = version.requests.filter(status=SignOffStatus.OPEN).select_related("owner")
    practice = request_access(request).practice
    context = {
        "sop": sop,
        "version": version,
        "current": current,
        "versions": versions,
        "sign_offs": sign_offs,
        "pending": pending,
        "signed_by_me": any(s.user_id == request.user.pk for s in sign_offs),
        "can_edit": has_perm(request.user, perms.MANAGE_SOPS, practice.pk),
    }
    return render(request, "sops/sop_detail.html", context, status=status)


@scoped_page(perms.VIEW_PRACTICE)
@require_GET
def sop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One SOP: the current version, or an older one with ``?version=N``."""
    sop = _sop(request, pk)
    version = None
    wanted = request.GET.get("version", "")
    if wanted:
        if not wanted.isdigit():
            raise Http404("Not found.")
        version = sop.versions.filter(number=int(wanted)).first()
        if version is None:
            raise Http404("Not found.")
    return _render_version(request, sop, version)


@scoped_page(perms.VIEW_PRACTICE)
@require_GET
def sop_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two versions (default: the previous and the current)."""
    sop = _sop(request, pk)
    versions = {v.number: v for v in sop.versions.select_related("owner")}
    if not versions:
        raise Http404("Not found.")
    newest = max(versions)
    try:
        new_number = int(request.GET.get("to") or newest)
        old_number = int(request.GET.get("from") or new_number - 1)
    except ValueError:
        raise Http404("Not found.") from None
    if old_number not in versions or new_number not in versions:
        raise Http404("Not found.")
    old, new = versions[old_number], versions[new_number]
    context = {"sop": sop, "old": old, "new": new, "diff": sop_services.sop_diff(old, new)}
    return render(request, "sops/sop_diff.html", context)


@scoped_page(perms.VIEW_PRACTICE)
@require_POST
def sop_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign off the current version (the form posts the version number read)."""
    sop = _sop(request, pk)
    number = request.POST.get("version", "")
    version = sop.versions.filter(number=int(number)).first() if number.isdigit() else None
    if version is None:
        raise Http404("Not found.")
    try:
        sop_services.sop_sign_off(actor=_actor(request), version=version)
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _render_version(request, sop, version, status=400)
    messages.success(request, f"Signed off version {version.number}.")
    return redirect("sop-detail", pk=sop.pk)


@scoped_page(perms.MANAGE_SOPS)
@require_http_methods(["GET", "POST"])
def sop_edit(request: HttpRequest, kind: str) -> HttpResponse:
    """Write the function's SOP: the first version, or a new one with what changed."""
    if kind not in BillingFunctionKind.values:
        raise Http404("Not found.")
    practice = request_access(request).practice
    functions = BillingFunction.objects.visible_to(request.user, perms.MANAGE_SOPS)
    function = functions.of_practice(practice.pk).filter(kind=kind).first()
    if function is None:
        messages.info(request, "Name the function's owner first.")
        return redirect("billing-function-edit", kind=kind)
    sop = Sop.objects.filter(function=function).first()
    current = sop.current_version() if sop is not None else None
    initial: dict[str, Any] = {"owner": function.owner_id}
    if current is not None and sop is not None:
        initial = {
            "title": sop.title,
            "objective": current.objective,
            "steps": "\n".join(current.steps),
            "owner": current.owner_id,
            "timeline": current.timeline,
            "escalation_path": current.escalation_path,
            "payer_requirements": current.payer_requirements,
        }
    else:
        initial["change_summary"] = "First version"
    people = holders(perms.VIEW_PRACTICE, practice.pk).order_by("username")
    form = forms.SopForm(request.POST or None, initial=initial, people=people)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = sop_services.sop_save(
                    actor=_actor(request),
                    function=function,
                    title=data["title"],
                    objective=data["objective"],
                    steps=form.step_list(),
                    owner=data["owner"] or function.owner,
                    timeline=data["timeline"],
                    escalation_path=data["escalation_path"],
                    payer_requirements=data["payer_requirements"],
                    change_summary=data["change_summary"],
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"Version {version.number} saved: sign-offs requested.")
                return redirect("sop-detail", pk=version.sop_id)
        status = 400
    context = {"form": form, "function": function, "sop": sop, "current": current}
    return render(request, "sops/sop_edit.html", context, status=status)


@scoped_page(perms.VIEW_PRACTICE)
@require_GET
def sign_off_request(request: HttpRequest, pk: int) -> HttpResponse:
    """A sign-off work item: the version to read, with the sign-off button."""
    practice = request_access(request).practice
    items = SIGN_OFF.model._default_manager.visible_to(request.user, SIGN_OFF.permission)
    item: SopSignOffRequest = get_scoped_or_404(
        items.of_practice(practice.pk).select_related("sop_version"), pk=pk
    )
    sop = _sop(request, item.sop_version.sop_id)
    return _render_version(request, sop, item.sop_version)
