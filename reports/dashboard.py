"""What the dashboard, its CSV, the API and the weekly e-mail show: one builder.

``build(practice_ids, period)`` reads the snapshots once (the period's sums from
PostgreSQL, ``reports.sums``; the 12 months' trend, ``reports.selectors``) and returns the
tiles, tables and chart series; each figure carries the link to the items behind it (the
queue filtered the same way).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from denials.choices import DenialCategory
from reports import cached, sums
from reports.catalogue import BY_KEY, KPIS, Kpi
from reports.kpis import AGE_BUCKETS, OVER_90
from reports.selectors import (
    TREND_KEYS,
    Period,
    aggregate,
    last_months,
    month_trend,
    read_days,
)
from reports.selectors import (
    period as period_of,
)
from reports.values import ZERO, headline

# A tile's sparkline has a point per day up to this many days, per month beyond.
SPARK_DAYS = 92
BREAKDOWN_KEYS = ["denials_by_payer", "denials_by_provider", "denials_by_service"]


@dataclass
class Figure:
    """One KPI in a period: its value, the previous period's, the change and a link."""

    kpi: Kpi
    value: Decimal | int | None
    previous: Decimal | int | None
    no_data: bool
    link: str
    spark: list[float | None] = field(default_factory=list)

    @property
    def change(self) -> Decimal | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def good(self) -> bool | None:
        change = self.change
        if not change:
            return None
        return (change > 0) == (self.kpi.better == "up")

    @property
    def shown(self) -> str:
        return show(self.kpi.unit, self.value, self.no_data)

    @property
    def previous_shown(self) -> str:
        return show(self.kpi.unit, self.previous, False)

    @property
    def change_shown(self) -> str:
        change = self.change
        if change is None:
            return ""
        sign = "+" if change > 0 else ""
        unit = " pts" if self.kpi.unit == "%" else ""
        return f"{sign}{show(self.kpi.unit, change, False).rstrip(' %')}{unit}"


def show(unit: str, value: Decimal | int | None, no_data: bool) -> str:
    """A figure as text: "no data yet", "none counted", "$1,204.50", "92.31 %", "12.4 days"."""
    if no_data:
        return "no data yet"
    if value is None:
        return "none counted"
    if unit == "$":
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "days":
        return f"{Decimal(value):.1f} days"
    return f"{value:,}"


@functools.lru_cache(maxsize=64)
def _reversed(name: str, slug: str | None, prefix: str) -> str:
    return reverse(name, kwargs={"slug": slug} if slug else None)


def _url(name: str, slug: str | None = None) -> str:
    """``reverse`` once per URL (and script prefix): a page links to the same dozen
    queues from every tile, bucket and category."""
    return _reversed(name, slug, get_script_prefix())


def _queue(slug: str, practice_id: int | None, **params: str) -> str:
    query = {**({"practice": str(practice_id)} if practice_id else {}), **params}
    url = _url("queue", slug)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def links(practice_id: int | None) -> dict[str, str]:
    """Each figure's list of items: the queues filtered as the figure counts them."""
    payer_ar = _queue("payer-ar", practice_id)
    denials = _queue("denials", practice_id)
    return {
        "clean_claim_rate": _queue("rejections", practice_id),
        "first_pass_denial_rate": denials,
        "first_pass_denial_amount_rate": denials,
        "days_in_ar": payer_ar,
        "ar_over_90": _queue("payer-ar", practice_id, age="91+"),
        "net_collection_rate": _url("remittance-list"),
        "gross_collection_rate": _url("remittance-list"),
        "payments_posted": _url("remittance-list"),
        "claims_submitted": payer_ar,
        "submission_lag": _queue("all-open", practice_id, status="ready"),
        "response_turnaround": denials,
        "unresolved_insurance_requests": payer_ar,
        "eligibility_verified": "",
        "appeal_overturn_rate": denials,
        "timely_filing_write_offs": _queue("denials", practice_id, category="timely_filing"),
        "underpayments_found": _queue("underpayments", practice_id),
        "underpayments_recovered": _queue("underpayments", practice_id),
        "ar_aging_payer": payer_ar,
        "ar_aging_patient": _queue("patient-balances", practice_id),
        "patient_days_in_ar": _queue("patient-balances", practice_id),
        "patient_ar_over_90": _queue("patient-balances", practice_id),
        "denials_by_category": denials,
        "denials_by_payer": denials,
        "denials_by_provider": denials,
        "denials_by_service": denials,
        "overdue_by_owner": _url("queue-owners"),
        "dollars_resolved_by_staff": _url("queue-owners"),
    }


def _spark(days: dict[dt.date, dict[str, Any]], kpi: Kpi, period: Period) -> list[float | None]:
    points: list[float | None] = []
    day = period.start
    while day <= period.end:
        value = headline(days.get(day, {}).get(kpi.key))
        points.append(float(value) if value is not None else None)
        day += dt.timedelta(days=1)
    return points


def _number(value: Any) -> Decimal | int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return 0
    return headline(value)


def period_figures(
    practice_ids: Iterable[int], period: Period, today: dt.date, *, key: str | bool | None = True
) -> dict[str, Any]:
    """What the page shows for the period, before formatting: the figures of the period
    and of the one before (``reports.sums.period_sums``), the 12 months' trend, each
    tile's daily points and the staff's names. Cached (``reports.cached``) until a rollup
    of the days it reads is written again."""
    ids = sorted(set(practice_ids))
    months = last_months(period.end)
    cache_key = figures_key_of(ids, period, today) if key is True else key or None
    return cached.through(cache_key, lambda: _period_figures(ids, period, today, months))


def figures_key_of(practice_ids: Iterable[int], period: Period, today: dt.date) -> str | None:
    """The cache key of ``period_figures`` (None: not cached), one query."""
    first = min(period.previous_start, period.start, last_months(period.end)[0])
    dates = (period.start, period.end, period.previous_start, period.previous_end)
    return cached.key(practice_ids, first, period.end, today, *dates)


def _period_figures(
    ids: list[int], period: Period, today: dt.date, months: list[dt.date]
) -> dict[str, Any]:
    """Every figure over the period and the one before, summed in PostgreSQL
    (``reports.sums``); the trend figures over 12 months; the tiles' points (per day up to
    ``SPARK_DAYS``, per month beyond, from the same read)."""
    if not sums.supported():  # SQLite (the embedded default): the plain read, same figures
        return _period_figures_plain(ids, period, today, months)
    ranges = [(period.start, period.end), (period.previous_start, period.previous_end)]
    by_month = period.days > SPARK_DAYS
    read = sums.period_sums(ids, ranges, today, monthly=0 if by_month else None)
    current = read.figures[(0, None)]
    now = read.today.get(None)
    days = {today: now} if now is not None else {}
    spark_keys = [kpi.key for kpi in KPIS if kpi.headline]
    in_period = now if period.start <= today <= period.end else None
    if by_month:  # the tiles' points by month, from the same read
        sparks = {key: [_float(headline(f[key])) for _, _, f in read.months] for key in spark_keys}
    else:
        sparks = sums.daily(ids, period.start, period.end, today, spark_keys, in_period)
    return {
        "current": current,
        "previous": read.figures[(1, None)],
        "trend": month_trend(ids, months, period.end, days, today),
        "sparks": sparks,
        "names": staff_names(current),
    }


def _period_figures_plain(
    ids: list[int], period: Period, today: dt.date, months: list[dt.date]
) -> dict[str, Any]:
    """The same figures the plain way (every stored day read and added in Python): the
    reference ``tests/reports/test_sums.py`` compares ``_period_figures`` with."""
    days = read_days(ids, min(period.previous_start, period.start), period.end, today)
    current = aggregate(days, period.start, period.end)
    return {
        "current": current,
        "previous": aggregate(days, period.previous_start, period.previous_end),
        "trend": month_trend(ids, months, period.end, days, today),
        "sparks": {kpi.key: _spark(days, kpi, period) for kpi in KPIS if kpi.headline}
        if period.days <= SPARK_DAYS
        else {
            kpi.key: [
                _float(headline(aggregate(days, start, end, [kpi.key])[kpi.key]))
                for start, end in sums.month_pieces(period.start, period.end)
            ]
            for kpi in KPIS
            if kpi.headline
        },
        "names": staff_names(current),
    }


def build(
    practice_ids: Iterable[int],
    period: Period,
    *,
    practice_id: int | None = None,
    key: str | bool | None = True,
) -> dict[str, Any]:
    """Everything the dashboard shows for these practices in this period (``key``: the
    figures' cache key when already known, see ``period_figures``)."""
    ids = sorted(set(practice_ids))
    today = timezone.localdate()
    months = last_months(period.end)
    raw = period_figures(ids, period, today, key=key)
    current, previous, trend = raw["current"], raw["previous"], raw["trend"]
    urls = links(practice_id)
    figures: dict[str, Figure] = {}
    for kpi in KPIS:
        value = current[kpi.key]
        figures[kpi.key] = Figure(
            kpi=kpi,
            value=_value(kpi, value),
            previous=_value(kpi, previous[kpi.key]),
            no_data=value is None,
            link=urls.get(kpi.key, ""),
            spark=raw["sparks"][kpi.key] if kpi.headline else [],
        )
    aging = current["ar_aging_payer"] or {}
    patient_aging = current["ar_aging_patient"] or {}
    categories = current["denials_by_category"] or {}
    return {
        "period": period,
        "figures": figures,
        "tiles": [figures[kpi.key] for kpi in KPIS if kpi.headline],
        "table": [f for f in figures.values() if not isinstance(current[f.kpi.key], dict)],
        # (bucket, payer A/R, its claims, patient A/R)
        "aging": [
            (
                name,
                aging.get(name, ZERO),
                _queue("payer-ar", practice_id, age=name),
                patient_aging.get(name, ZERO),
            )
            for name, _, _ in AGE_BUCKETS
        ],
        "aging_patient_no_data": current["ar_aging_patient"] is None,
        "denial_categories": [
            (label, categories[code], _queue("denials", practice_id, category=code))
            for code, label in DenialCategory.choices
            if code in categories
        ],
        "breakdowns": [
            (
                BY_KEY[key],
                sorted((current[key] or {}).items(), key=lambda kv: (-kv[1].amount, kv[0])),
            )
            for key in BREAKDOWN_KEYS
        ],
        "staff": staff_rows(current, period, raw["names"]),
        "chart": {
            "months": [first_day.strftime("%b %Y") for first_day in months],
            "trends": [
                {
                    "key": key,
                    "label": BY_KEY[key].label,
                    "unit": BY_KEY[key].unit,
                    "data": [_float(_number(trend[m].get(key))) for m in months],
                    "reference": _reference(BY_KEY[key]),
                }
                for key in TREND_KEYS
            ],
            "aging": {
                "labels": [name for name, _, _ in AGE_BUCKETS],
                "payer": [float(aging.get(name, ZERO)) for name, _, _ in AGE_BUCKETS],
                "patient": None
                if current["ar_aging_patient"] is None
                else [float(patient_aging.get(name, ZERO)) for name, _, _ in AGE_BUCKETS],
            },
            "denials": {
                "labels": [label for label, _, _ in _cats(categories)],
                "amounts": [float(tally.amount) for _, tally, _ in _cats(categories)],
            },
            "sparks": {f.kpi.key: f.spark for f in figures.values() if f.kpi.headline},
        },
        "over_90_buckets": OVER_90,
        "owners_url": _url("queue-owners"),
    }


def body_html(practice_id: int, period: Period) -> SafeString:
    """The dashboard's figures as HTML (tiles, the charts' data, tables): the same for
    every viewer of the practice, so rendered once per rollup stamp and cached with the
    figures (``reports.cached``); a manager landing on the page reads one cache entry."""
    today = timezone.localdate()
    figures_key = figures_key_of([practice_id], period, today)
    html_key = f"{figures_key}:html:{practice_id}" if figures_key else None

    def render_body() -> str:
        context = build([practice_id], period, practice_id=practice_id, key=figures_key)
        return render_to_string("reports/_dashboard_body.html", context)

    return mark_safe(cached.through(html_key, render_body))  # noqa: S308 (our own template)


def warm(
    practice_ids: Iterable[int], today: dt.date, periods: Iterable[str] = ("this_month",)
) -> int:
    """Render the dashboard of each practice for these periods into the cache (after a
    rollup, so a manager's request is not the first to sum the stored days); returns how
    many pages were rendered."""
    count = 0
    for key in periods:
        chosen = period_of(key, today)
        for practice_id in sorted(set(practice_ids)):
            body_html(practice_id, chosen)
            count += 1
    return count


STAFF_KEYS = ["dollars_resolved_by_staff", "overdue_by_owner"]


def console(practice_ids: Iterable[int], period: Period) -> dict[str, Any]:
    """The vendor console: the headline figures of each practice and of all of them, and
    the staff's throughput over all of them. One read of the stored days for every practice
    at once (``reports.sums``, grouped by practice), cached like the dashboard's figures."""
    ids = sorted(set(practice_ids))
    today = timezone.localdate()
    figures_key = figures_key_of(ids, period, today)
    raw = cached.through(
        f"{figures_key}:console" if figures_key else None,
        lambda: _console_figures(ids, period, today),
    )
    tiles = [kpi for kpi in KPIS if kpi.headline]
    per_practice = {}
    for group in [*ids, None]:
        urls = links(group)
        current, previous = raw[(0, group)], raw[(1, group)]
        per_practice[group] = {
            kpi.key: Figure(
                kpi=kpi,
                value=_value(kpi, current[kpi.key]),
                previous=_value(kpi, previous[kpi.key]),
                no_data=current[kpi.key] is None,
                link=urls.get(kpi.key, "") if group is not None else "",
            )
            for kpi in tiles
        }
    overall = raw[(0, None)]
    return {
        "tiles": tiles,
        "figures": per_practice,
        "staff": staff_rows(overall, period, raw["names"]),
    }


def _console_figures(ids: list[int], period: Period, today: dt.date) -> dict[Any, Any]:
    if not sums.supported():
        return _console_figures_plain(ids, period, today)
    keys = [kpi.key for kpi in KPIS if kpi.headline] + STAFF_KEYS
    ranges = [(period.start, period.end), (period.previous_start, period.previous_end)]
    read = sums.period_sums(ids, ranges, today, keys=keys, by_practice=True)
    result: dict[Any, Any] = dict(read.figures)
    result["names"] = staff_names(read.figures[(0, None)])
    return result


def _console_figures_plain(ids: list[int], period: Period, today: dt.date) -> dict[Any, Any]:
    """The console's figures read and added in Python, practice by practice and for all of
    them: SQLite's path, and the reference ``tests/reports/test_sums.py`` compares with."""
    keys = [kpi.key for kpi in KPIS if kpi.headline] + STAFF_KEYS
    first = min(period.previous_start, period.start)
    result: dict[Any, Any] = {}
    for group in [*ids, None]:
        days = read_days(ids if group is None else [group], first, period.end, today)
        result[(0, group)] = aggregate(days, period.start, period.end, keys)
        result[(1, group)] = aggregate(days, period.previous_start, period.previous_end, keys)
    result["names"] = staff_names(result[(0, None)])
    return result


def _cats(categories: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [
        (label, categories[code], "")
        for code, label in DenialCategory.choices
        if code in categories
    ]


def _reference(kpi: Kpi) -> list[float] | None:
    return [float(x) for x in kpi.reference] if kpi.reference else None


def _float(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _value(kpi: Kpi, value: Any) -> Decimal | int | None:
    """A ratio with nothing counted has no value (None), a sum with nothing counted is 0."""
    if value is None:
        return None
    if isinstance(value, int) and value == 0:
        return None if kpi.unit in ("%", "days") else (ZERO if kpi.unit == "$" else 0)
    return headline(value)


def staff_names(current: dict[str, Any]) -> dict[int, str]:
    """The names of the staff in the period's throughput figures, by user id."""
    dollars = current["dollars_resolved_by_staff"] or {}
    overdue = current["overdue_by_owner"] or {}
    user_ids = {int(key) for key in [*dollars, *overdue] if key}
    if not user_ids:
        return {}
    return {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=user_ids)
    }


def staff_rows(
    current: dict[str, Any], period: Period, names: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """Per staff member: dollars resolved per day and overdue next actions (names, no ids)."""
    dollars = current["dollars_resolved_by_staff"] or {}
    overdue = current["overdue_by_owner"] or {}
    if names is None:
        names = staff_names(current)
    rows = []
    for key in sorted(set(dollars) | set(overdue), key=lambda k: names.get(int(k or 0), "~")):
        resolved = dollars.get(key, ZERO)
        rows.append(
            {
                "name": names.get(int(key), "?") if key else "Unassigned",
                "resolved": resolved,
                "per_day": (Decimal(resolved) / period.days).quantize(Decimal("0.01")),
                "overdue": overdue.get(key, 0),
            }
        )
    return rows
