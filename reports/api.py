"""``GET /api/v1/kpis/?practice=&from=&to=``: the dashboard's figures for one practice.

Only practices where the caller holds ``view_kpis``; any other id (or none the caller may
see) is a 404, like a missing object. Money and rates are strings (exact decimals);
"no data yet" is ``null`` with ``no_data: true``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_ops.access import visible_practice_ids
from practices import permissions as perms
from reports import dashboard
from reports.selectors import MAX_DAYS, period


class KpiQuery(serializers.Serializer[Any]):
    practice = serializers.IntegerField(min_value=1)
    # ``from`` is a Python keyword: the field is renamed in ``__init__``.
    to = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start > end:
            raise serializers.ValidationError({"from": "From must not be after to."})
        if start and end and (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"from": f"At most {MAX_DAYS} days."})
        return attrs


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def figures_json(context: dict[str, Any]) -> dict[str, Any]:
    """The figures of a built dashboard as JSON-safe values."""
    result: dict[str, Any] = {}
    for key, figure in context["figures"].items():
        result[key] = {
            "label": figure.kpi.label,
            "unit": figure.kpi.unit,
            "value": _text(figure.value),
            "previous": _text(figure.previous),
            "no_data": figure.no_data,
            "formula": figure.kpi.formula,
        }
    result["ar_aging_payer"]["buckets"] = {
        name: str(amount) for name, amount, _, _ in context["aging"]
    }
    if not context["aging_patient_no_data"]:
        result["ar_aging_patient"]["buckets"] = {
            name: str(patient) for name, _, _, patient in context["aging"]
        }
    for kpi, items in context["breakdowns"]:
        result[kpi.key]["items"] = {
            name: {"count": tally.count, "amount": str(tally.amount)} for name, tally in items
        }
    result["denials_by_category"]["items"] = {
        label: {"count": tally.count, "amount": str(tally.amount)}
        for label, tally, _ in context["denial_categories"]
    }
    return result


class KpiAPIView(APIView):
    """GET /api/v1/kpis/: one practice's KPI figures for a date range (default this month)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("practice", OpenApiTypes.INT, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        query = KpiQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        practice_id = query.validated_data["practice"]
        if practice_id not in visible_practice_ids(request.user, perms.VIEW_KPIS):
            raise NotFound()
        today = timezone.localdate()
        start, end = query.validated_data.get("from"), query.validated_data.get("to")
        chosen = period(
            "custom" if start or end else "this_month", today, start or today, end or today
        )
        context = dashboard.build([practice_id], chosen, practice_id=practice_id)
        return Response(
            {
                "practice": practice_id,
                "from": chosen.start.isoformat(),
                "to": chosen.end.isoformat(),
                "previous_from": chosen.previous_start.isoformat(),
                "previous_to": chosen.previous_end.isoformat(),
                "figures": figures_json(context),
            }
        )
