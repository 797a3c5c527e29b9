"""The KPI dashboard, the vendor console and the CSV export (``view_kpis`` only).

Every figure is computed over practices where the viewer holds ``view_kpis``: the current
practice on the dashboard (or one of theirs named by ``?practice=``), all of theirs on
the console. Anything else is a 404, as for a missing object.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing_ops.access import request_access, visible_practice_ids
from billing_ops.exports import csv_cell
from billing_ops.pages import scoped_page
from practices import permissions as perms
from practices.models import Practice
from reports import dashboard, throughput
from reports.selectors import PERIODS, Period, period
from work.views import needs_you


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def chosen_period(request: HttpRequest) -> Period:
    """The period asked for in ``?period=`` (``custom`` with ``from`` and ``to``)."""
    return period(
        request.GET.get("period", "this_month"),
        timezone.localdate(),
        _date(request.GET.get("from")),
        _date(request.GET.get("to")),
    )


def chosen_practice(request: HttpRequest) -> Any:
    """``?practice=<id>`` if the viewer holds view_kpis there, else the current practice
    (which must allow it); anything else is a 404."""
    wanted = request.GET.get("practice")
    if wanted:
        if not wanted.isdigit() or int(wanted) not in visible_practice_ids(
            request.user, perms.VIEW_KPIS
        ):
            raise Http404("Not found.")
        return Practice.objects.get(pk=int(wanted))
    access = request_access(request)
    current = access.practice
    if current is not None and access.has(perms.VIEW_KPIS, current.pk):
        return current
    # Landing here from another practice in the switcher: the first one they may see.
    ids = visible_practice_ids(request.user, perms.VIEW_KPIS)
    practice = Practice.objects.filter(pk__in=ids).order_by("name").first()
    if practice is None:
        raise Http404("Not found.")
    return practice


def _query(request: HttpRequest, practice: Any) -> str:
    query = request.GET.copy()
    query["practice"] = str(practice.pk)
    return query.urlencode()


@require_GET
@scoped_page(perms.VIEW_KPIS, current_practice=False)
def kpi_dashboard(request: HttpRequest) -> HttpResponse:
    """The manager's landing page: tiles, trends, aging, denials, with the period chosen."""
    practice = chosen_practice(request)
    chosen = chosen_period(request)
    context: dict[str, Any] = {"period": chosen, "body": dashboard.body_html(practice.pk, chosen)}
    context.update(
        practice=practice,
        periods=PERIODS,
        query=_query(request, practice),
        several=len(visible_practice_ids(request.user, perms.VIEW_KPIS)) > 1,
        # What waits for the manager besides the figures (escalations, ending vendor
        # access, approvals): the same panel as on My day.
        needs_you=needs_you(request, practice, timezone.localdate()),
        can_see_owners=True,
    )
    return render(request, "reports/dashboard.html", context)


@require_GET
@scoped_page(perms.VIEW_KPIS, current_practice=False)
def vendor_console(request: HttpRequest) -> HttpResponse:
    """Every practice the viewer holds view_kpis at, side by side, and per-staff throughput."""
    ids = sorted(visible_practice_ids(request.user, perms.VIEW_KPIS))
    if not ids:
        raise Http404("Not found.")
    chosen = chosen_period(request)
    practices = list(Practice.objects.filter(pk__in=ids).order_by("name"))
    read = dashboard.console(ids, chosen)
    figures = read["figures"]
    columns = [(practice, figures[practice.pk]) for practice in practices]
    rows = [
        (kpi, [figures[practice.pk][kpi.key] for practice in practices], figures[None][kpi.key])
        for kpi in read["tiles"]
    ]
    overall = {"staff": read["staff"]}
    return render(
        request,
        "reports/console.html",
        {
            "period": chosen,
            "periods": PERIODS,
            "columns": columns,
            "rows": rows,
            "staff": overall["staff"],
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@scoped_page(perms.VIEW_KPIS, current_practice=False)
def kpi_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's tables as CSV: figures, aging, denials by category and by payer,
    provider and service, staff throughput."""
    practice = chosen_practice(request)
    chosen = chosen_period(request)
    context = dashboard.build([practice.pk], chosen, practice_id=practice.pk)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["practice", practice.name])
    writer.writerow(["period", chosen.start.isoformat(), chosen.end.isoformat()])
    writer.writerow([])
    writer.writerow(["table", "item", "value or amount", "previous period or count", "change"])
    for figure in context["figures"].values():
        if figure in context["table"]:
            row = ["figures", figure.kpi.label, figure.shown, figure.previous_shown]
            writer.writerow([csv_cell(x) for x in [*row, figure.change_shown]])
    for name, amount, _, patient in context["aging"]:
        writer.writerow([csv_cell(x) for x in ["payer A/R aging", name, amount, "", ""]])
        if not context["aging_patient_no_data"]:
            writer.writerow([csv_cell(x) for x in ["patient A/R aging", name, patient, "", ""]])
    for label, tally, _ in context["denial_categories"]:
        writer.writerow(
            [csv_cell(x) for x in ["denials by category", label, tally.amount, tally.count, ""]]
        )
    for kpi, items in context["breakdowns"]:
        for key, tally in items:
            writer.writerow([csv_cell(x) for x in [kpi.label, key, tally.amount, tally.count, ""]])
    for row in context["staff"]:
        writer.writerow(
            [
                csv_cell(x)
                for x in ["staff", row["name"], row["resolved"], row["per_day"], row["overdue"]]
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"kpis-{practice.slug}-{chosen.start.isoformat()}-{chosen.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
def my_throughput(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own throughput (items and dollars resolved per day, overdue
    next actions they own) at the practices they may see; nobody else's figures."""
    ids = visible_practice_ids(request.user, perms.VIEW_PRACTICE)
    if not ids:
        raise Http404("Not found.")
    chosen = chosen_period(request)
    today = timezone.localdate()
    user_id = int(request.user.pk or 0)
    figures = throughput.own(user_id, ids, chosen.start, chosen.end, today)
    practices = list(Practice.objects.filter(pk__in=ids).order_by("name"))
    return render(
        request,
        "reports/mine.html",
        {"period": chosen, "periods": PERIODS, "figures": figures, "practices": practices},
    )
