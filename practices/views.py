"""Staff pages for practices: switcher, patients, and who has access."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from billing_ops.access import SESSION_PRACTICE_KEY, request_access
from billing_ops.pages import ScopedPageMixin, get_scoped_or_404, scoped_page
from practices import people_services, phi_log
from practices import permissions as perms
from practices.account_views import safe_next
from practices.forms import PracticeSwitchForm
from practices.models import Assignment, Membership, Patient
from practices.search import matching_patients
from practices.selectors import access_rows
from practices.stepup import step_up_response


# Home and the switcher work across practices (current_practice=False): they are where a
# user lands before a practice is chosen, and the switcher is how one gets chosen.
@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the KPI dashboard for managers and vendor leads, My day for people
    who work claims, else the patients list."""
    grants = request_access(request).grants
    if grants.practice_ids(perms.VIEW_KPIS):
        return redirect("kpi-dashboard")
    if grants.practice_ids(perms.WORK_CLAIMS):
        return redirect("queue", slug="my-day")
    if grants.practice_ids(perms.VERIFY_ELIGIBILITY):
        return redirect("day-sheet")  # the front desk's day (eligibility)
    return redirect("patient-list")


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_POST
def switch_practice(request: HttpRequest) -> HttpResponse:
    """Remember the chosen practice; a practice the user cannot see is a 404."""
    form = PracticeSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("Not found.")
    chosen = form.cleaned_data["practice"]
    practice = next((p for p in request_access(request).practices if p.pk == chosen), None)
    if practice is None:
        raise Http404("Not found.")
    request.session[SESSION_PRACTICE_KEY] = practice.pk
    messages.success(request, f"Now working in {practice}.")
    return redirect(safe_next(request, reverse("home")))


# The search term is a name: it travels only in a POST body and the server-side session,
# never in a URL (browser history, proxy and access logs). Key: (practice id, term).
PATIENT_SEARCH_KEY = "patient_search"


class PatientListView(ScopedPageMixin, ListView):
    """Patients of the current practice, searchable by name, date of birth, phone, account
    or member number.

    Searching is a POST that keeps the term in the session and redirects to the plain list
    URL (post/redirect/get); the list and its pages (``?page=N``) apply the kept term."""

    model = Patient
    scope_permission = perms.VIEW_PATIENTS
    paginate_by = 50
    template_name = "practices/patient_list.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        query = request.POST.get("q", "").strip()[:100]
        if query:
            request.session[PATIENT_SEARCH_KEY] = [self.practice.pk, query]
        else:
            request.session.pop(PATIENT_SEARCH_KEY, None)
        return redirect("patient-list")

    def search_term(self) -> str:
        kept = self.request.session.get(PATIENT_SEARCH_KEY)
        if kept and kept[0] == self.practice.pk:
            return str(kept[1])
        return ""

    def get_queryset(self) -> QuerySet[Patient]:
        queryset = super().get_queryset()
        query = self.search_term()
        if query:
            # Names in any order ("Okafor, Ada" as the list shows it), date of birth, phone
            # digits, account or member number (issue 9).
            queryset = matching_patients(queryset, query)
        return queryset.order_by("last_name", "first_name", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(q=self.search_term(), **kwargs)
        what = "patient search" if context["q"] else "patient list"
        phi_log.record_read(self.request, context["object_list"], what=what)
        return context


class PatientDetailView(ScopedPageMixin, DetailView):
    """One patient with coverages and upcoming appointments; each view is logged."""

    model = Patient
    scope_permission = perms.VIEW_PATIENTS
    current_practice_only = False
    template_name = "practices/patient_detail.html"

    def get_queryset(self) -> QuerySet[Patient]:
        return super().get_queryset().select_related("practice")

    def get_object(self, queryset: QuerySet[Patient] | None = None) -> Patient:
        patient = super().get_object(queryset)
        phi_log.record_read(self.request, [patient], what="patient page")
        return patient

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        patient = self.object
        return super().get_context_data(
            coverages=patient.coverages.select_related("payer").order_by("cob_order"),
            appointments=patient.appointments.select_related("provider").order_by("-starts_at")[
                :20
            ],
            **kwargs,
        )


class AccessView(ScopedPageMixin, TemplateView):
    """For managers: who can reach the current practice, with their areas and last login."""

    scope_permission = perms.MANAGE_ACCESS
    template_name = "practices/access.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        practice = self.practice
        return super().get_context_data(practice=practice, **access_rows(practice), **kwargs)


def _revoke(request: HttpRequest, func: Any, **kwargs: Any) -> HttpResponse:
    """Run a revoke service: refused access is a 404; a refused revoke (e.g. of one's own
    access) comes back to the access page with the service's reason."""
    try:
        func(actor=request.user, **kwargs)
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("access")
    messages.success(request, "Access revoked. It takes effect on their next request.")
    return redirect("access")


# The revokes are scoped by the membership's or assignment's own practice (404 outside
# the ones the requester manages), not by the switcher's.
@scoped_page(perms.MANAGE_ACCESS, current_practice=False)
@require_POST
def revoke_membership(request: HttpRequest, pk: int) -> HttpResponse:
    """End an in-house member's access to a practice the requester manages."""
    queryset = Membership.objects.visible_to(request.user, perms.MANAGE_ACCESS)
    membership = get_scoped_or_404(queryset.select_related("practice", "user"), pk=pk)
    if (ask := step_up_response(request)) is not None:  # after the 404, before the change
        return ask
    # Refused while they own open work: the people page asks who takes it over.
    return _revoke(request, people_services.membership_revoke_with_handover, membership=membership)


@scoped_page(perms.MANAGE_ACCESS, current_practice=False)
@require_POST
def revoke_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    """End a vendor staff member's assignment to a practice the requester manages."""
    queryset = Assignment.objects.visible_to(request.user, perms.MANAGE_ACCESS)
    assignment = get_scoped_or_404(
        queryset.select_related("engagement__practice", "staff__user"), pk=pk
    )
    if (ask := step_up_response(request)) is not None:  # after the 404, before the change
        return ask
    return _revoke(request, people_services.assignment_revoke_with_handover, assignment=assignment)
