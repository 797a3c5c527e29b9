"""Find a claim or a patient from one box: claim number, payer claim number, patient name
(in any order: "Adams, Kara" or "kara adams"), date of birth, member id, account number,
phone.

Reads only: claims the caller may work and patients the caller may see, at every practice
they can reach (the caller on the phone does not care which practice the switcher shows).
The term is PHI (a name, a birth date): callers take it from a POST body, never a URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from claims.models import Claim
from claims.teeth import teeth_prefetch
from practices import permissions as perms
from practices.models import Patient

# The term's reading and the patient matching live one layer down, shared with the
# patient list (issue 9).
from practices.search import MAX_TERM, Term, parse, patient_q, with_phone

__all__ = ["LIMIT", "MAX_TERM", "Results", "Term", "parse", "search", "search_claims"]

LIMIT = 25


@dataclass
class Results:
    term: str
    claims: list[Claim] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.claims and not self.patients


def search_claims(user: Any, term: Term, limit: int = LIMIT) -> list[Claim]:
    """Claims the user may work matching the term, newest service date first."""
    if not term.text:
        return []
    visible = Claim.objects.visible_to(user, perms.WORK_CLAIMS)
    condition = (
        Q(pms_claim_number__iexact=term.text)
        | Q(payer_claim_number__iexact=term.text)
        | Q(coverage__member_id__iexact=term.text)
        | patient_q(term, "patient__")
    )
    ids = set(visible.filter(condition).values_list("pk", flat=True)[: limit * 4])
    ids |= set(
        with_phone(visible, term, "patient__phone").values_list("pk", flat=True)[: limit * 4]
    )
    return list(
        visible.filter(pk__in=ids)
        .select_related("patient", "payer", "practice", "owner")
        .prefetch_related(teeth_prefetch())  # the rows' teeth: one query, not one a row
        .order_by("-service_date_from", "-pk")[:limit]
    )


def search_patients(user: Any, term: Term, limit: int = LIMIT) -> list[Patient]:
    """Patients the user may see matching the term, by name."""
    if not term.text:
        return []
    visible = Patient.objects.visible_to(user, perms.VIEW_PATIENTS)
    ids = set(visible.filter(patient_q(term)).values_list("pk", flat=True)[: limit * 4])
    ids |= set(with_phone(visible, term, "phone").values_list("pk", flat=True)[: limit * 4])
    return list(
        visible.filter(pk__in=ids)
        .select_related("practice")
        .order_by("last_name", "first_name", "pk")[:limit]
    )


def search(user: Any, raw: str, limit: int = LIMIT) -> Results:
    """Claims and patients the user may see for one box entry."""
    term = parse(raw)
    return Results(
        term=term.text,
        claims=search_claims(user, term, limit),
        patients=search_patients(user, term, limit),
    )
