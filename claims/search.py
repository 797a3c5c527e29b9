"""Find a claim or a patient from one box: claim number, payer claim number, patient name
(in any order: "Adams, Kara" or "kara adams"), date of birth, member id, account number,
phone.

Reads only: claims the caller may work and patients the caller may see, at every practice
they can reach (the caller on the phone does not care which practice the switcher shows).
The term is PHI (a name, a birth date): callers take it from a POST body, never a URL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Replace

from claims.models import Claim
from practices import permissions as perms
from practices.models import Patient

MAX_TERM = 100
LIMIT = 25
# A phone number: digits with the usual separators, at least 7 digits.
PHONE = re.compile(r"^[\d\s().+-]+$")
PHONE_MIN_DIGITS = 7
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m/%d/%y", "%m%d%Y")
NAME_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Term:
    """What a search box entry can mean; each non-empty part is tried."""

    text: str
    date: dt.date | None = None
    phone_digits: str = ""
    names: tuple[str, ...] = ()


@dataclass
class Results:
    term: str
    claims: list[Claim] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.claims and not self.patients


def _date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def parse(raw: str) -> Term:
    """Read a box entry: a date, a phone number, name parts, and the text itself."""
    text = " ".join(raw.split())[:MAX_TERM]
    if not text:
        return Term(text="")
    date = _date(text)
    digits = re.sub(r"\D", "", text)
    phone = digits if PHONE.match(text) and len(digits) >= PHONE_MIN_DIGITS and not date else ""
    names = tuple(part for part in NAME_SPLIT.split(text) if part and not part.isdigit())
    return Term(text=text, date=date, phone_digits=phone, names=names)


def _digits_only(field_name: str) -> Any:
    """The column with the usual phone separators removed (portable: nested REPLACE)."""
    expression: Any = F(field_name)
    for separator in (" ", "-", "(", ")", ".", "+"):
        expression = Replace(expression, Value(separator), Value(""), output_field=CharField())
    return expression


def _name_q(names: tuple[str, ...], prefix: str) -> Q | None:
    """Every part starts the first or the last name, in any order."""
    if not names:
        return None
    condition = Q()
    for part in names:
        condition &= Q(**{f"{prefix}first_name__istartswith": part}) | Q(
            **{f"{prefix}last_name__istartswith": part}
        )
    return condition


def _patient_q(term: Term, prefix: str = "") -> Q:
    """Patient facts shared by both searches (``prefix`` reaches the patient from a claim)."""
    coverage = f"{prefix}coverages__" if prefix else "coverages__"
    condition = Q(**{f"{prefix}account_number__iexact": term.text}) | Q(
        **{f"{coverage}member_id__iexact": term.text}
    )
    names = _name_q(term.names, prefix)
    if names is not None:
        condition |= names
    if term.date is not None:
        condition |= Q(**{f"{prefix}date_of_birth": term.date})
    return condition


def _with_phone(queryset: QuerySet[Any], term: Term, field_name: str) -> QuerySet[Any]:
    if not term.phone_digits:
        return queryset.none()
    # The last ten digits: "+1 (212) 555-0100" finds "212-555-0100".
    return queryset.annotate(_digits=_digits_only(field_name)).filter(
        _digits__endswith=term.phone_digits[-10:]
    )


def search_claims(user: Any, term: Term, limit: int = LIMIT) -> list[Claim]:
    """Claims the user may work matching the term, newest service date first."""
    if not term.text:
        return []
    visible = Claim.objects.visible_to(user, perms.WORK_CLAIMS)
    condition = (
        Q(pms_claim_number__iexact=term.text)
        | Q(payer_claim_number__iexact=term.text)
        | Q(coverage__member_id__iexact=term.text)
        | _patient_q(term, "patient__")
    )
    ids = set(visible.filter(condition).values_list("pk", flat=True)[: limit * 4])
    ids |= set(
        _with_phone(visible, term, "patient__phone").values_list("pk", flat=True)[: limit * 4]
    )
    return list(
        visible.filter(pk__in=ids)
        .select_related("patient", "payer", "practice", "owner")
        .order_by("-service_date_from", "-pk")[:limit]
    )


def search_patients(user: Any, term: Term, limit: int = LIMIT) -> list[Patient]:
    """Patients the user may see matching the term, by name."""
    if not term.text:
        return []
    visible = Patient.objects.visible_to(user, perms.VIEW_PATIENTS)
    ids = set(visible.filter(_patient_q(term)).values_list("pk", flat=True)[: limit * 4])
    ids |= set(_with_phone(visible, term, "phone").values_list("pk", flat=True)[: limit * 4])
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
