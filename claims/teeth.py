"""Teeth on queue rows (issue 7, point 3): each dental line's teeth and surfaces as one
short label ("#31, 30, 21 MO"), read from lines fetched once per page, never per row.

A queue, My day or any list of claims adds ``teeth_prefetch()`` to its queryset (one query
for the whole page, only lines that name a tooth); ``row_teeth(claim)`` then answers from
what was fetched and is empty for a claim read without it (a row must not cost a query).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, Q

from claims.models import ClaimLine

TEETH_ATTR = "teeth_lines"


def teeth_prefetch() -> Prefetch:
    """The lines of each claim that name a tooth, in line order, with only what the label
    needs (lines saved before ``teeth`` existed carry ``tooth`` alone)."""
    lines = (
        ClaimLine.objects.filter(~Q(teeth=[]) | ~Q(tooth=""))
        .only("id", "claim_id", "line_number", "procedure_code", "tooth", "surfaces", "teeth")
        .order_by("line_number")
    )
    return Prefetch("lines", queryset=lines, to_attr=TEETH_ATTR)


def teeth_label(teeth: Iterable[Mapping[str, Any]]) -> str:
    """``#31, 30, 21 MO``: a line's teeth in file order, each with its surfaces."""
    parts = []
    for item in teeth:
        tooth = str(item.get("tooth", "") or "").strip()
        if not tooth:
            continue
        surfaces = str(item.get("surfaces", "") or "").strip()
        parts.append(f"{tooth} {surfaces}" if surfaces else tooth)
    return "#" + ", ".join(parts) if parts else ""


def row_teeth(claim: Any) -> list[str]:
    """One label per line that names a tooth ("D2391 #30 MO"), from the prefetched lines;
    empty when the claim was read without ``teeth_prefetch`` (no query here)."""
    lines = getattr(claim, TEETH_ATTR, None)
    if not lines:
        return []
    labels = []
    for line in lines:
        label = teeth_label(line.all_teeth)
        if label:
            labels.append(f"{line.procedure_code} {label}")
    return labels
