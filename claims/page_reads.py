"""The claim page's reads of one claim's rows, compiled once per process (issue 10, speed).

The page read its lines, scrub findings, timeline and attachments through lazy querysets
inside its template: each compiled by the ORM on every request, which cost several times
the CPU of running it (the four: ~2.9 ms against ~0.6 ms). Each read here is the same
queryset (``claim.lines.all()``, ``claim.findings.all()``, ``attachments.
visible_activities(...)[:TIMELINE]``, ``attachments.visible_attachments(...)``), compiled
once with a mark for the claim (``billing_ops.compiled.CompiledRead``), one statement for
a user who may see clinical attachments and one for a user who may not; the rows point
back at the claim as the related manager's do. ``plain=True``: the querysets themselves
(the reference path of ``tests/claims/test_page_reads.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model, QuerySet

from billing_ops.compiled import INT_MARK, CompiledRead
from claims import attachments
from claims.models import Attachment, Claim, ClaimActivity, ClaimLine, ScrubFinding

# The timeline entries the page shows.
TIMELINE = 200
# What the claim page and its forms' views read with the claim.
CLAIM_RELATED = ("patient", "payer", "provider", "owner", "coverage", "practice", "locked_by")
# A 64-bit key: an id past it is no claim's (the ORM's path answers it).
_BIGINT = range(-(2**63), 2**63)


def _claim(claim_id: int, practice_ids: list[int]) -> QuerySet[Any]:
    scoped = Claim.objects.in_practices(practice_ids, as_array=True)
    return scoped.filter(pk=claim_id).select_related(*CLAIM_RELATED)


def _lines(claim_id: int) -> QuerySet[Any]:
    return ClaimLine.objects.filter(claim_id=claim_id)


def _findings(claim_id: int) -> QuerySet[Any]:
    return ScrubFinding.objects.filter(claim_id=claim_id)


def _activities(clinical: bool) -> Callable[[int], QuerySet[Any]]:
    def build(claim_id: int) -> QuerySet[Any]:
        queryset = ClaimActivity.objects.filter(claim_id=claim_id).select_related("actor")
        if not clinical:
            queryset = queryset.filter(attachments.non_clinical_entries())
        return queryset[:TIMELINE]

    return build


def _attachments(clinical: bool) -> Callable[[int], QuerySet[Any]]:
    def build(claim_id: int) -> QuerySet[Any]:
        queryset = Attachment.objects.filter(claim_id=claim_id).select_related("requested_by")
        if not clinical:
            queryset = queryset.filter(attachments.non_clinical_attachments())
        return queryset

    return build


_reads = {
    "claim": CompiledRead(lambda: Claim, _claim, (INT_MARK, [INT_MARK])),
    "lines": CompiledRead(lambda: ClaimLine, _lines, (INT_MARK,)),
    "findings": CompiledRead(lambda: ScrubFinding, _findings, (INT_MARK,)),
    "activities": CompiledRead(lambda: ClaimActivity, _activities(False), (INT_MARK,)),
    "activities+clinical": CompiledRead(lambda: ClaimActivity, _activities(True), (INT_MARK,)),
    "attachments": CompiledRead(lambda: Attachment, _attachments(False), (INT_MARK,)),
    "attachments+clinical": CompiledRead(lambda: Attachment, _attachments(True), (INT_MARK,)),
}


def _of_claim(rows: list[Model], model: type[Model], claim: Claim) -> list[Any]:
    """``row.claim`` is the page's claim, without a query (as the related manager sets it)."""
    field = model._meta.get_field("claim")
    for row in rows:
        field.set_cached_value(row, claim)  # type: ignore[union-attr]
    return rows


def scoped_claim(claim_id: int, practice_ids: Iterable[int]) -> Claim | None:
    """The claim of that id with ``CLAIM_RELATED`` if it is of one of ``practice_ids`` (the
    practices where the user works claims), else None: the row ``Claim.objects.visible_to
    (user, "work_claims").select_related(*CLAIM_RELATED).get(pk=claim_id)`` finds."""
    wanted = sorted(practice_ids)
    if not wanted or claim_id not in _BIGINT:
        return None
    found = _reads["claim"](claim_id, wanted)
    return found[0] if found else None


def lines(claim: Claim, *, plain: bool = False) -> list[ClaimLine]:
    """``claim.lines.all()``."""
    if plain:
        return list(claim.lines.all())
    return _of_claim(_reads["lines"](claim.pk), ClaimLine, claim)


def findings(claim: Claim, *, plain: bool = False) -> list[ScrubFinding]:
    """``claim.findings.all()``: what the claim's last scrub stored."""
    if plain:
        return list(claim.findings.all())
    return _of_claim(_reads["findings"](claim.pk), ScrubFinding, claim)


def timeline(user: Any, claim: Claim, *, plain: bool = False) -> list[ClaimActivity]:
    """The first ``TIMELINE`` entries of ``attachments.visible_activities``."""
    if plain:
        return list(attachments.visible_activities(user, claim)[:TIMELINE])
    key = "activities+clinical" if attachments.can_see_clinical(user, claim) else "activities"
    return _of_claim(_reads[key](claim.pk), ClaimActivity, claim)


def visible_attachments(user: Any, claim: Claim, *, plain: bool = False) -> list[Attachment]:
    """``attachments.visible_attachments``."""
    if plain:
        return list(attachments.visible_attachments(user, claim))
    key = "attachments+clinical" if attachments.can_see_clinical(user, claim) else "attachments"
    return _of_claim(_reads[key](claim.pk), Attachment, claim)
