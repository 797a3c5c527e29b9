"""Daily KPI snapshots: one row per practice and day, one per vendor and day.

Each row holds every figure of ``reports.catalogue.KPIS`` by its parts (``reports.values.dump``),
so a period is the sum of its days and a vendor the sum of its practices. The dashboard
reads these rows, never the raw tables (today's figures may be computed live).
"""

from django.db import models

from billing_ops.scoping import PracticeScopedQuerySet


class PracticeDay(models.Model):
    """The KPI figures of one practice for one day (flows of that day, stocks at its end)."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    figures = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "day"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "day"], name="one_kpi_row_per_practice_day")
        ]

    def __str__(self) -> str:
        return f"KPIs of practice {self.practice_id} on {self.day}"


class PracticeMonth(models.Model):
    """The summed parts of one practice's stored days of one calendar month (``reports.months``):
    a long period reads its whole months here and only its edge days from ``PracticeDay``.
    Rewritten whenever a day of the month is (``reports.rollups``)."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    parts = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "month"], name="one_kpi_row_per_practice_month"
            )
        ]

    def __str__(self) -> str:
        return f"KPI parts of practice {self.practice_id} in {self.month:%Y-%m}"


class VendorDay(models.Model):
    """The KPI figures of one vendor for one day, summed over the practices it serves."""

    vendor = models.ForeignKey("practices.Vendor", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    figures = models.JSONField(default=dict)
    practice_ids = models.JSONField(default=list)  # which practices the sum covers
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["vendor", "day"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "day"], name="one_kpi_row_per_vendor_day")
        ]

    def __str__(self) -> str:
        return f"KPIs of vendor {self.vendor_id} on {self.day}"


class SnapshotMail(models.Model):
    """A weekly snapshot e-mail sent to one practice for one week (sent once)."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "week_start"], name="one_snapshot_mail_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"KPI snapshot of practice {self.practice_id}, week of {self.week_start}"
