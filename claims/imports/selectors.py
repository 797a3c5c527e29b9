"""Reads for the import result: a job's stored entries sorted by what a person does with
them, and links to what it created or changed.

``ImportJob.errors`` holds every entry of a run (errors, conflicts, warnings, changes, skips,
notes; see ``claims.imports.results``) and ``ImportJob.records`` what it wrote; the page and
the API read them through ``job_report`` instead of filtering the raw list themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

from claims.imports.results import (
    CLAIM,
    CONFLICT,
    COVERAGE,
    ERROR,
    ESTIMATE,
    NOTE,
    PATIENT,
    PAYER,
    PROVIDER,
    SKIPPED,
    UPDATED,
    WARNING,
    describe,
)
from claims.models import ImportJob
from practices import permissions as perms

# Kind -> (heading on the page, URL name, the record's key holding the URL's id).
# Coverages have no page of their own: they show on their patient's page.
KINDS: dict[str, tuple[str, str, str]] = {
    CLAIM: ("Claims", "claim-detail", "id"),
    ESTIMATE: ("Pre-treatment estimates", "estimate-detail", "id"),
    PATIENT: ("Patients", "patient-detail", "id"),
    COVERAGE: ("Coverages", "patient-detail", "patient"),
    PAYER: ("Payers", "payer-edit", "id"),
    PROVIDER: ("Providers", "provider-edit", "id"),
}
# The permission (at the job's practice) each kind's page needs; payer and provider pages
# also need that practice to be the current one (practices.reference_views).
PAGE_PERMISSIONS = {
    CLAIM: perms.WORK_CLAIMS,
    ESTIMATE: perms.WORK_CLAIMS,
    PATIENT: perms.VIEW_PATIENTS,
    COVERAGE: perms.VIEW_PATIENTS,
    PAYER: perms.MANAGE_SOPS,
    PROVIDER: perms.MANAGE_SOPS,
}
CURRENT_PRACTICE_ONLY = frozenset({PAYER, PROVIDER})


def linkable_kinds(access: Any, job: ImportJob) -> frozenset[str]:
    """The kinds whose pages the viewer (``request.access``) may open for this job."""
    current = access.practice.pk if access.practice is not None else None
    return frozenset(
        kind
        for kind, permission in PAGE_PERMISSIONS.items()
        if access.has(permission, job.practice_id)
        and (kind not in CURRENT_PRACTICE_ONLY or current == job.practice_id)
    )


@dataclass(frozen=True)
class Link:
    """One thing the import created or changed; ``url`` is empty after a preview."""

    label: str
    action: str
    url: str = ""


@dataclass(frozen=True)
class LinkGroup:
    kind: str
    heading: str
    links: list[Link]


@dataclass(frozen=True)
class JobReport:
    """A job's result, split the way the page shows it."""

    problems: list[dict[str, Any]] = field(default_factory=list)  # rejected rows / segments
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # left for a person
    warnings: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # records changed on file
    skips: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    links: list[LinkGroup] = field(default_factory=list)

    @property
    def warning_count(self) -> int:
        return len(self.warnings)

    @property
    def change_count(self) -> int:
        return len(self.changes)


_BUCKETS = {
    ERROR: "problems",
    CONFLICT: "conflicts",
    WARNING: "warnings",
    UPDATED: "changes",
    SKIPPED: "skips",
    NOTE: "notes",
}


def _url(name: str, pk: Any) -> str:
    if pk is None:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _links(job: ImportJob, linkable: frozenset[str]) -> list[LinkGroup]:
    # A preview was rolled back: what it lists would have been created, and has no page.
    if job.dry_run:
        linkable = frozenset()
    groups: dict[str, list[Link]] = {}
    for record in job.records or []:
        kind = record.get("kind", "")
        if kind not in KINDS:
            continue
        _heading, url_name, key = KINDS[kind]
        url = _url(url_name, record.get(key)) if kind in linkable else ""
        groups.setdefault(kind, []).append(
            Link(label=str(record.get("label", "")), action=record.get("action", ""), url=url)
        )
    return [LinkGroup(kind, KINDS[kind][0], groups[kind]) for kind in KINDS if kind in groups]


def job_report(job: ImportJob, linkable: frozenset[str] = frozenset(KINDS)) -> JobReport:
    """The job's entries by kind (each with ``text``: where and what), and what it wrote:
    linked for the kinds in ``linkable`` (see ``linkable_kinds``), listed for the others."""
    buckets: dict[str, list[dict[str, Any]]] = {name: [] for name in _BUCKETS.values()}
    for entry in job.errors or []:
        bucket = _BUCKETS.get(entry.get("level", ""), "notes")
        buckets[bucket].append({**entry, "text": describe(entry)})
    return JobReport(**buckets, links=_links(job, linkable))
