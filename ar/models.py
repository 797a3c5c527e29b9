"""Work-queue support: in-app notifications (reminders, escalations, deadline alerts)."""

from django.conf import settings
from django.db import models

from ar.choices import NotificationKind
from billing_ops.scoping import PracticeScopedQuerySet


class Notification(models.Model):
    """One reminder or alert for one person; ``dedupe_key`` makes every job idempotent."""

    practice_lookup = "practice"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    message = models.CharField(max_length=400)
    for_date = models.DateField()
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.message}"
