"""The header search box's page and ``POST /api/v1/search/``: one term, claims and patients.

Both read the term from the POST body only (it is a name or a birth date: never in a URL,
so never in browser history or an access log) and answer with what ``claims.search`` finds
among the rows the caller may see. Patients shown are written to the PHI access log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_ops.pages import scoped_page
from claims import search
from practices import permissions as perms
from practices import phi_log
from practices.choices import AccessAction


def _log_patients(request: Any, results: search.Results, what: str, action: str) -> None:
    """Every patient a search shows (directly or through a claim) is a PHI read."""
    phi_log.record_read(request, [*results.patients, *results.claims], what=what, action=action)


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_http_methods(["GET", "POST"])
def search_page(request: HttpRequest) -> HttpResponse:
    """The results of the header's search box (a GET shows the empty box)."""
    raw = request.POST.get("q", "") if request.method == "POST" else ""
    results = search.search(request.user, raw)
    _log_patients(request, results, "search page", AccessAction.VIEW)
    practice_ids = {c.practice_id for c in results.claims} | {
        p.practice_id for p in results.patients
    }
    return render(
        request,
        "claims/search.html",
        {
            "results": results,
            "searched": bool(results.term),
            "many_practices": len(practice_ids) > 1,
        },
    )


class SearchInput(serializers.Serializer[Any]):
    q = serializers.CharField(max_length=search.MAX_TERM, allow_blank=True, trim_whitespace=True)


class SearchClaim(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    practice = serializers.IntegerField(source="practice_id")
    practice_name = serializers.CharField(source="practice.name")
    pms_claim_number = serializers.CharField()
    payer_claim_number = serializers.CharField()
    patient = serializers.IntegerField(source="patient_id")
    patient_name = serializers.SerializerMethodField()
    payer_name = serializers.CharField(source="payer.name")
    status = serializers.CharField()
    service_date_from = serializers.DateField()
    total_billed = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_patient_name(self, claim: Any) -> str:
        return f"{claim.patient.last_name}, {claim.patient.first_name}"


class SearchPatient(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    practice = serializers.IntegerField(source="practice_id")
    practice_name = serializers.CharField(source="practice.name")
    account_number = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()


class SearchAnswer(serializers.Serializer[Any]):
    claims = SearchClaim(many=True)
    patients = SearchPatient(many=True)


class SearchAPIView(APIView):
    """POST /api/v1/search/ ``{"q": ...}``: claims and patients the caller may see."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=SearchInput, responses={200: SearchAnswer})
    def post(self, request: Request) -> Response:
        data = SearchInput(data=request.data)
        data.is_valid(raise_exception=True)
        results = search.search(request.user, data.validated_data["q"])
        _log_patients(request, results, "search API", AccessAction.API)
        answer = SearchAnswer({"claims": results.claims, "patients": results.patients})
        return Response(answer.data)
