"""Teeth on queue rows (issue 7, point 3): each dental line's teeth and surfaces as one
short label ("#31, 30, 21 MO"), read from lines fetched once per page, never per row.

The queue pages and My day attach them to the page's claims with ``attach_teeth`` (the
claim item type's ``load_rows``: one statement compiled once per process, plain rows, no
line instances); any other list of claims adds ``teeth_prefetch()`` to its queryset (one
query for the whole page, only lines that name a tooth). ``row_teeth(claim)`` then answers
from what was read and is empty for a claim read without either (a row must not cost a
query).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, TextField, prefetch_related_objects
from django.db.models.functions import Cast

from billing_ops.bulk import any_of
from billing_ops.compiled import INT_MARK, CompiledValues, kept
from claims.models import ClaimLine

TEETH_ATTR = "teeth_lines"


def _naming_a_tooth() -> Q:
    """Lines that name a tooth (lines saved before ``teeth`` existed carry ``tooth`` alone)."""
    return ~Q(teeth=[]) | ~Q(tooth="")


def teeth_prefetch() -> Prefetch:
    """The lines of each claim that name a tooth, in line order, with only what the label
    needs."""
    lines = (
        ClaimLine.objects.filter(_naming_a_tooth())
        .only("id", "claim_id", "line_number", "procedure_code", "tooth", "surfaces", "teeth")
        .order_by("line_number")
    )
    return Prefetch("lines", queryset=lines, to_attr=TEETH_ATTR)


class TeethLine:
    """What a row's label reads of a line (``procedure_code``, ``all_teeth``), without a
    model instance; ``label``: its part of the row ("D2391 #30 MO", "" for none)."""

    __slots__ = ("procedure_code", "tooth", "surfaces", "_teeth_text", "label")

    def __init__(
        self, procedure_code: str, tooth: str, surfaces: str, teeth_text: str | None
    ) -> None:
        self.procedure_code = procedure_code
        self.tooth = tooth
        self.surfaces = surfaces
        self._teeth_text = teeth_text
        self.label = _line_label(self)

    @property
    def teeth(self) -> Any:
        return json.loads(self._teeth_text) if self._teeth_text else []

    # The line's own rule (``ClaimLine.all_teeth``), on these values.
    all_teeth = ClaimLine.all_teeth


def _teeth_lines(claim_ids: list[int]) -> QuerySet[Any]:
    return (
        ClaimLine.objects.filter(_naming_a_tooth(), any_of("claim_id", claim_ids))
        .order_by("line_number", "id")
        .values_list(
            "claim_id",
            "procedure_code",
            "tooth",
            "surfaces",
            Cast("teeth", output_field=TextField()),  # a label's key (jsonb text is canonical)
        )
    )


# The page's teeth read, compiled once per process (issue 10, speed): the prefetch built a
# line instance a row and compiled its query on every page (2.4 ms of CPU for 50 rows at
# dataset L, against 0.3 ms for this read).
_teeth_read = CompiledValues(lambda: ClaimLine, _teeth_lines, ([INT_MARK],))

# A line's label by (code, tooth, surfaces, teeth as text): the same few combinations come
# back page after page, so most lines are one lookup, not a JSON parse and a label built.
_LABELS: OrderedDict[tuple[Any, ...], str] = OrderedDict()
LABELS_SIZE = 4096


def _line_label(line: TeethLine) -> str:
    def make() -> str:
        label = teeth_label(line.all_teeth)
        return f"{line.procedure_code} {label}" if label else ""

    key = (line.procedure_code, line.tooth, line.surfaces, line._teeth_text)
    return kept(_LABELS, key, make, LABELS_SIZE)


def attach_teeth(claims: Iterable[Any], *, plain: bool = False) -> None:
    """Give each claim its lines that name a tooth, in line order (what ``row_teeth``
    reads), in one query for all of them; ``plain``: through ``teeth_prefetch`` (the
    reference path of the tests)."""
    claims = list(claims)
    if not claims:
        return
    if plain:
        for claim in claims:
            claim.__dict__.pop(TEETH_ATTR, None)
        prefetch_related_objects(claims, teeth_prefetch())
        return
    by_claim: dict[int, list[TeethLine]] = {claim.pk: [] for claim in claims}
    for claim_id, code, tooth, surfaces, teeth in _teeth_read(list(by_claim)):
        by_claim[claim_id].append(TeethLine(code, tooth, surfaces, teeth))
    for claim in claims:
        setattr(claim, TEETH_ATTR, by_claim[claim.pk])


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
        if isinstance(line, TeethLine):
            label = line.label  # made when it was read
        else:
            label = teeth_label(line.all_teeth)
            label = f"{line.procedure_code} {label}" if label else ""
        if label:
            labels.append(label)
    return labels
