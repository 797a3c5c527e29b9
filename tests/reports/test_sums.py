"""The period's figures summed in PostgreSQL (``reports.sums``) are the plain path's: every
stored day read and added in Python (``reports.selectors.read_days`` + ``aggregate``,
``reports.dashboard._period_figures_plain``), value for value, for one practice and for
several, over periods inside a month, across months, with partial months, with days
missing, with nothing stored, and with today stored or computed live."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.kpis import _day
from reports import dashboard, months, rollups, sums
from reports.catalogue import KPIS
from reports.models import PracticeDay, PracticeMonth
from reports.selectors import Period, aggregate, last_months, period, read_days
from reports.values import Ratio, Tally, dump

DAYS = 420


def _store(world: Any, month_rows: bool = False) -> None:
    """Illustrative days for both practices (the demo's generator), with the shapes the
    plain path must survive: days missing (a gap of 12 days at Sunrise, every seventh day at
    Maple), Maple's last stored day three days before Sunrise's, figures that are None
    (no data yet) on some days, rows without a key (written before the figure existed),
    a breakdown item only one practice has, and today stored for Sunrise only (Maple's
    today is computed live)."""
    today = timezone.localdate()
    now = timezone.now()
    staff = [str(world.bill.pk), str(world.vera.pk)]
    names = {"payers": ["Delta", "Aetna"], "providers": ["Dr A", "Dr B"]}
    rows = []
    for practice, offset_end in ((world.sunrise, 0), (world.maple, 3)):
        for offset in range(offset_end, DAYS):
            day = today - dt.timedelta(days=offset)
            if practice == world.sunrise and 30 <= offset < 42:
                continue  # a gap in the stored days
            if practice == world.maple and offset % 7 == 0:
                continue
            figures = _day(practice, day, 1 - offset / DAYS, names, staff)
            if offset % 11 == 0:
                figures["appeal_overturn_rate"] = None
                figures["payments_posted"] = None
            if offset % 13 == 0:
                figures["eligibility_verified"] = Ratio(Decimal(3), Decimal(4))
            if practice == world.maple and offset > 300:
                figures.pop("patient_ar_over_90", None)  # stored before the figure existed
                del figures["timely_filing_write_offs"]
            if practice == world.maple and offset % 5 == 0:
                figures["denials_by_service"] = {"MAPLE-ONLY": Tally(1, Decimal("12.34"))}
            if practice == world.sunrise and offset in (5, 6):
                # Ties at the half cent: 0.125 % and 0.375 % round half to even.
                figures["clean_claim_rate"] = Ratio(Decimal(1 if offset == 5 else 3), Decimal(800))
            if offset % 17 == 0:
                figures["ar_aging_patient"] = {"0-30": Decimal("40.10"), "120+": Decimal("9.99")}
                figures["patient_ar_over_90"] = Ratio(Decimal("9.99"), Decimal("50.09"))
            rows.append(
                PracticeDay(
                    practice=practice,
                    day=day,
                    figures={key: dump(value) for key, value in figures.items()},
                    computed_at=now,
                )
            )
    PracticeDay.objects.bulk_create(rows)
    if month_rows:  # as the rollup writes them: every month of the stored days
        start = today - dt.timedelta(days=DAYS)
        written = months.write_range([world.sunrise.pk, world.maple.pk], start, today)
        assert written == 2 * len(months.months_of(start, today))


def _periods(today: dt.date) -> list[Period]:
    def custom(start: dt.date, end: dt.date) -> Period:
        return period("custom", today, start, end)

    month_ago = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    return [
        period("this_month", today),
        period("last_month", today),
        period("last_90", today),
        custom(month_ago + dt.timedelta(days=9), month_ago + dt.timedelta(days=19)),  # inside
        custom(today - dt.timedelta(days=150), today - dt.timedelta(days=40)),  # partial months
        custom(today - dt.timedelta(days=364), today),  # twelve months
        custom(today - dt.timedelta(days=45), today - dt.timedelta(days=25)),  # over the gap
        custom(today - dt.timedelta(days=40), today - dt.timedelta(days=31)),  # only the gap
        custom(today - dt.timedelta(days=2), today - dt.timedelta(days=1)),  # Maple: nothing
        custom(today - dt.timedelta(days=DAYS + 30), today - dt.timedelta(days=DAYS - 5)),
        custom(today, today),  # today alone
    ]


@pytest.mark.parametrize("month_rows", [False, True], ids=["days", "month-rows"])
@pytest.mark.parametrize("which", ["sunrise", "maple", "both"])
def test_period_figures_equal_the_per_day_python_sum(
    world: Any, which: str, month_rows: bool
) -> None:
    _store(world, month_rows)
    today = timezone.localdate()
    ids = {
        "sunrise": [world.sunrise.pk],
        "maple": [world.maple.pk],
        "both": [world.sunrise.pk, world.maple.pk],
    }[which]
    compared = 0
    for chosen in _periods(today):
        months = last_months(chosen.end)
        fast = dashboard._period_figures(ids, chosen, today, months)
        plain = dashboard._period_figures_plain(ids, chosen, today, months)
        for part in ("current", "previous", "sparks", "trend", "names"):
            assert fast[part] == plain[part], (chosen, part)
        # To the cent as shown too (value, previous, change of every figure).
        shown_fast = _shown(ids, chosen, fast)
        assert shown_fast == _shown(ids, chosen, plain), chosen
        compared += len(shown_fast)
    assert compared == len(_periods(today)) * (len(KPIS) + 3)


def _shown(ids: list[int], chosen: Period, raw: dict[str, Any]) -> dict[str, Any]:
    key = "test-sums-shown"
    from django.core.cache import cache

    cache.set(key, raw)
    try:
        built = dashboard.build(ids, chosen, key=key)
    finally:
        cache.delete(key)
    return {
        k: (f.shown, f.previous_shown, f.change_shown, f.spark) for k, f in built["figures"].items()
    } | {"aging": built["aging"], "staff": built["staff"], "breakdowns": built["breakdowns"]}


def test_every_figure_had_data_to_compare(world: Any) -> None:
    """The fixture exercises every shape: ratios, tallies, money, counts, breakdowns, None."""
    _store(world)
    today = timezone.localdate()
    chosen = period("last_90", today)
    fast = dashboard._period_figures([world.sunrise.pk], chosen, today, last_months(today))
    current = fast["current"]
    assert isinstance(current["clean_claim_rate"], Ratio)
    assert isinstance(current["payments_posted"], Decimal)
    assert isinstance(current["claims_submitted"], int) and current["claims_submitted"] > 0
    assert current["denials_by_payer"] and set(current["denials_by_payer"]) <= {"Delta", "Aetna"}
    assert isinstance(current["eligibility_verified"], Ratio)
    assert current["underpayments_recovered"] is None  # None on every day: no data yet
    spark = fast["sparks"]["clean_claim_rate"]
    assert spark[-6] == 0.12 and spark[-7] == 0.38  # days T-5 and T-6, half to even
    # A long period's sparklines have a point per month (from the same read), not per day.
    year = period("custom", today, today - dt.timedelta(days=364), today)
    long = dashboard._period_figures([world.sunrise.pk], year, today, last_months(today))
    assert len(long["sparks"]["clean_claim_rate"]) == len(sums.month_pieces(year.start, today))
    assert len(fast["sparks"]["clean_claim_rate"]) == 90  # last 90 days: one per day
    nothing = period("custom", today, today - dt.timedelta(days=40), today - dt.timedelta(days=31))
    gap = dashboard._period_figures([world.sunrise.pk], nothing, today, last_months(nothing.end))
    assert all(value is None for value in gap["current"].values())


@pytest.mark.parametrize("month_rows", [False, True], ids=["days", "month-rows"])
def test_console_figures_equal_each_practice_and_the_sum(world: Any, month_rows: bool) -> None:
    _store(world, month_rows)
    today = timezone.localdate()
    ids = [world.sunrise.pk, world.maple.pk]
    keys = [kpi.key for kpi in KPIS if kpi.headline] + dashboard.STAFF_KEYS
    for chosen in _periods(today):
        raw = dashboard._console_figures(ids, chosen, today)
        assert raw == dashboard._console_figures_plain(ids, chosen, today), chosen
        for group, members in [(world.sunrise.pk, [world.sunrise.pk]),
                               (world.maple.pk, [world.maple.pk]), (None, ids)]:  # fmt: skip
            days = read_days(members, min(chosen.previous_start, chosen.start), chosen.end, today)
            for index, (start, end) in enumerate(
                [(chosen.start, chosen.end), (chosen.previous_start, chosen.previous_end)]
            ):
                assert raw[(index, group)] == aggregate(days, start, end, keys), (chosen, group)


@pytest.mark.parametrize("month_rows", [False, True], ids=["days", "month-rows"])
def test_the_reads_do_not_grow_with_the_period(world: Any, month_rows: bool) -> None:
    _store(world, month_rows)
    today = timezone.localdate()
    ids = [world.sunrise.pk, world.maple.pk]
    counts = []
    for chosen in (
        period("custom", today, today - dt.timedelta(days=20), today - dt.timedelta(days=10)),
        period("custom", today, today - dt.timedelta(days=290), today - dt.timedelta(days=10)),
        period("custom", today, today - dt.timedelta(days=150), today - dt.timedelta(days=10)),
    ):
        with CaptureQueriesContext(connection) as queries:
            read = sums.period_sums(ids, [(chosen.start, chosen.end)], today, by_practice=True)
        counts.append(len(queries.captured_queries))
        assert read.figures[(0, None)]["claims_submitted"] > 0
    # The month rows (when the period has a whole month), the sums of the other days, the
    # last day's stocks (a fourth query only for rows lacking a figure).
    assert counts[0] <= counts[1] == counts[2] == 3


def test_a_year_sums_at_most_its_edge_days() -> None:
    """With every month's rows there, PostgreSQL sums the edge days only (<= 62), whatever
    the period; without them, every day as before."""
    end = dt.date(2026, 11, 30)
    for start, edge_days in [
        (dt.date(2025, 12, 1), 0),  # twelve whole months
        (dt.date(2025, 12, 2), 30),  # December 2025 from the days
        (dt.date(2025, 11, 15), 16),  # 16 days of November, then whole months
        (dt.date(2026, 11, 3), 28),  # inside one month
    ]:
        summed = set(months.months_of(start, end))
        day_ranges, owners, from_months = sums.split([(start, end)], summed)
        assert sum((b - a).days + 1 for a, b in day_ranges) == edge_days, start
        covered = sum((months.last_of(m) - m).days + 1 for _, m in from_months)
        assert covered + edge_days == (end - start).days + 1
        assert all(owner == [0] for owner in owners)
        plain, _, none = sums.split([(start, end)], set())
        assert plain == [(start, end)] and none == []  # no month rows: one day range
    # Today's month is never whole (the stored days end yesterday): its days are edge days.
    pieces = sums.split([(dt.date(2026, 1, 1), dt.date(2026, 11, 29))], {dt.date(2026, 11, 1)})
    assert pieces[0] == [(dt.date(2026, 1, 1), dt.date(2026, 11, 29))]


def test_a_month_row_follows_a_late_change(world: Any) -> None:
    """A day of a past month changed after its month row was written: the month row is read
    (the stale row shows), and the rollup that rewrites the day rewrites its month too."""
    _store(world, month_rows=True)
    today = timezone.localdate()
    ids = [world.sunrise.pk, world.maple.pk]
    month = (today.replace(day=1) - dt.timedelta(days=70)).replace(day=1)
    late = month + dt.timedelta(days=9)
    year = period("custom", today, today - dt.timedelta(days=364), today)
    before = PracticeMonth.objects.get(practice=world.sunrise, month=month)
    row = PracticeDay.objects.get(practice=world.sunrise, day=late)
    row.figures["claims_submitted"] += 1000  # changed behind the rollup's back
    row.save()
    stale = dashboard._period_figures(ids, year, today, last_months(today))
    plain = dashboard._period_figures_plain(ids, year, today, last_months(today))
    assert stale["current"]["claims_submitted"] + 1000 == plain["current"]["claims_submitted"]
    # The rollup rewrites the day (from the claims) and the month with it.
    rollups.rollup_day(day=late, practice_ids=[world.sunrise.pk])
    after = PracticeMonth.objects.get(practice=world.sunrise, month=month)
    assert after.computed_at > before.computed_at and after.parts != before.parts
    for chosen in [*_periods(today), period("custom", today, month, months.last_of(month))]:
        for group in (ids, [world.sunrise.pk]):
            months_of = last_months(chosen.end)
            fast = dashboard._period_figures(group, chosen, today, months_of)
            assert fast == dashboard._period_figures_plain(group, chosen, today, months_of)
        console = dashboard._console_figures(ids, chosen, today)
        assert console == dashboard._console_figures_plain(ids, chosen, today), chosen


def test_month_rows_are_idempotent_and_written_by_the_rollup(world: Any) -> None:
    _store(world, month_rows=True)
    today = timezone.localdate()
    first = list(PracticeMonth.objects.order_by("pk").values("pk", "practice", "month", "parts"))
    months.write_range([world.sunrise.pk, world.maple.pk], today - dt.timedelta(days=DAYS), today)
    again = list(PracticeMonth.objects.order_by("pk").values("pk", "practice", "month", "parts"))
    assert again == first and len(first) > 24
    # A rollup of today writes this month's row of every active practice.
    PracticeMonth.objects.filter(month=today.replace(day=1)).delete()
    rollups.rollup_day(day=today)
    written = PracticeMonth.objects.filter(month=today.replace(day=1))
    assert set(written.values_list("practice_id", flat=True)) >= {world.sunrise.pk, world.maple.pk}
    # A backfill of a past month writes its row once, from the days it rewrote.
    month = (today.replace(day=1) - dt.timedelta(days=100)).replace(day=1)
    PracticeMonth.objects.filter(month=month).delete()
    rollups.backfill(start=month, end=month + dt.timedelta(days=2), practice_ids=[world.maple.pk])
    row = PracticeMonth.objects.get(practice=world.maple, month=month)
    stored = PracticeDay.objects.filter(
        practice=world.maple, day__gte=month, day__lte=months.last_of(month)
    )
    assert row.parts["days"].bit_count() == stored.count()


def test_a_backfill_that_stops_midway_leaves_no_stale_month_row(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(world, month_rows=True)
    today = timezone.localdate()
    ids = [world.sunrise.pk, world.maple.pk]
    month = (today.replace(day=1) - dt.timedelta(days=70)).replace(day=1)
    # A backfill of the whole month stops on its sixth day (the process ended, say): its
    # first five days are rewritten from the claims, so they differ from the stored days
    # the month row was summed from.
    rollup_day = rollups.rollup_day

    def stops_on_the_sixth(*, day: dt.date, **kwargs: Any) -> int:
        if day == month + dt.timedelta(days=5):
            raise RuntimeError("stopped")
        return rollup_day(day=day, **kwargs)

    monkeypatch.setattr(rollups, "rollup_day", stops_on_the_sixth)
    with pytest.raises(RuntimeError):
        rollups.backfill(start=month, end=months.last_of(month), practice_ids=[world.sunrise.pk])
    assert not PracticeMonth.objects.filter(practice=world.sunrise, month=month).exists()
    assert PracticeMonth.objects.filter(practice=world.maple, month=month).exists()
    chosen = period("custom", today, month, months.last_of(month))
    months_of = last_months(chosen.end)
    fast = dashboard._period_figures(ids, chosen, today, months_of)
    assert fast == dashboard._period_figures_plain(ids, chosen, today, months_of)
