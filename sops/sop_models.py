"""SOPs: one per billing function, with append-only versions and per-version sign-offs.

An SOP carries the six elements (objective, numbered steps, owner, timeline, escalation
path, payer-specific requirements) on each ``SopVersion``; editing writes a new version
with a summary of the change, old versions stay readable and never change. Every person
who performs the function signs off the current version (``SopSignOff``: who, when); until
they do, a ``SopSignOffRequest`` work item sits in their My day.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import SignOffAction, SignOffStatus
from work.models import Priority, WorkItem


class Sop(models.Model):
    """The standard operating procedure of one billing function at one practice."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    function = models.OneToOneField(
        "sops.BillingFunction", on_delete=models.PROTECT, related_name="sop"
    )
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = "SOP"

    def __str__(self) -> str:
        return self.title

    def current_version(self) -> SopVersion | None:
        return self.versions.order_by("-number").first()


class SopVersion(models.Model):
    """One version of an SOP: the six elements and what changed; never edited."""

    practice_lookup = "sop__practice"

    sop = models.ForeignKey(Sop, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    objective = models.TextField()
    # Numbered steps, in order (one string each).
    steps = models.JSONField(default=list)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    timeline = models.CharField(max_length=300)
    escalation_path = models.TextField()
    payer_requirements = models.TextField(blank=True)
    change_summary = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["sop", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["sop", "number"], name="one_sop_version_number")
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.sop} v{self.number}"

    def as_text(self) -> str:
        """The version as plain text, for the diff between versions."""
        steps = "\n".join(f"{n}. {step}" for n, step in enumerate(self.steps, start=1))
        return (
            f"Objective:\n{self.objective}\n\nSteps:\n{steps}\n\n"
            f"Owner: {self.owner.get_full_name() or self.owner.username}\n"
            f"Timeline: {self.timeline}\n\nEscalation path:\n{self.escalation_path}\n\n"
            f"Payer-specific requirements:\n{self.payer_requirements or '(none)'}\n"
        )


class SopSignOff(models.Model):
    """Somebody who performs the function read and signed off one version."""

    practice_lookup = "version__sop__practice"

    version = models.ForeignKey(SopVersion, on_delete=models.PROTECT, related_name="sign_offs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="one_sign_off_per_version")
        ]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.user} signed {self.version}"


class SopSignOffRequest(WorkItem):
    """A work item: one performer of the function has not signed the current version."""

    # Not ``version``: that is the work item's optimistic-locking counter.
    sop_version = models.ForeignKey(SopVersion, on_delete=models.PROTECT, related_name="requests")
    status = models.CharField(
        max_length=12, choices=SignOffStatus.choices, default=SignOffStatus.OPEN
    )
    next_action = models.CharField(max_length=30, choices=SignOffAction.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sop_version", "owner"],
                condition=models.Q(status="open"),
                name="one_open_sign_off_request",
            )
        ]
        indexes = [models.Index(fields=["owner", "next_action_due"])]

    def __str__(self) -> str:
        return f"Sign off {self.sop_version}"

    @property
    def is_open(self) -> bool:
        return self.status == SignOffStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        late = (today - self.next_action_due).days
        if late > 0:
            return Priority(100 + late * 10, (f"SOP unsigned, {late} days overdue",))
        return Priority(100, ("New SOP version to sign off",))
