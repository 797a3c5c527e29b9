"""Reading a search box entry, and matching patients by it: pure helpers shared by the
patient list (here) and the header search (``claims.search``, a higher layer).

An entry can be a name in any order ("Adams, Kara", "kara adams"), a date of birth in the
usual formats, a phone number (any separators, the last ten digits count), an account or
member number. The term is PHI: callers take it from a POST body, never a URL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Replace

from practices.models import Coverage

MAX_TERM = 100
# A phone number: digits with the usual separators, at least 7 digits.
PHONE = re.compile(r"^[\d\s().+-]+$")
PHONE_MIN_DIGITS = 7
PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "+")
DATE_FORMATS = (
    "%m/%d/%Y",
    "%Y-%m-%d",
    "%m-%d-%Y",
    "%m.%d.%Y",
    "%m/%d/%y",
    "%m%d%Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
)
NAME_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Term:
    """What a search box entry can mean; each non-empty part is tried."""

    text: str
    date: dt.date | None = None
    phone_digits: str = ""
    names: tuple[str, ...] = ()


def parse_date(text: str) -> dt.date | None:
    """A date of birth as people type it: 03/14/1980, 3/14/80, 1980-03-14, Mar 14, 1980."""
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def parse(raw: str) -> Term:
    """Read a box entry: a date, a phone number, name parts, and the text itself."""
    text = " ".join(raw.split())[:MAX_TERM]
    if not text:
        return Term(text="")
    date = parse_date(text)
    digits = re.sub(r"\D", "", text)
    phone = digits if PHONE.match(text) and len(digits) >= PHONE_MIN_DIGITS and not date else ""
    names = () if date else tuple(p for p in NAME_SPLIT.split(text) if p and not p.isdigit())
    return Term(text=text, date=date, phone_digits=phone, names=names)


def digits_only(field_name: str) -> Any:
    """The column with the usual phone separators removed (portable: nested REPLACE)."""
    expression: Any = F(field_name)
    for separator in PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""), output_field=CharField())
    return expression


def name_q(names: tuple[str, ...], prefix: str = "", lookup: str = "istartswith") -> Q | None:
    """Every part matches the first or the last name, in any order."""
    if not names:
        return None
    condition = Q()
    for part in names:
        condition &= Q(**{f"{prefix}first_name__{lookup}": part}) | Q(
            **{f"{prefix}last_name__{lookup}": part}
        )
    return condition


def patient_q(term: Term, prefix: str = "", name_lookup: str = "istartswith") -> Q:
    """Patient facts: account number, member id, name parts, date of birth (``prefix``
    reaches the patient from another model, e.g. ``"patient__"`` from a claim).

    The member id is an ``EXISTS`` on the patient's coverages, not a join: a join to a
    patient's several coverages repeats the patient, and callers had to wrap the match
    in ``pk IN (subquery)``, which PostgreSQL runs as a nested loop over the table twice
    when its statistics say a practice has one patient (a new practice, a table just
    filled): seconds at a few hundred patients.
    """
    patient = OuterRef(prefix.removesuffix("__") if prefix else "pk")
    member = Coverage.objects.filter(patient=patient, member_id__iexact=term.text)
    condition = Q(**{f"{prefix}account_number__iexact": term.text}) | Q(Exists(member))
    names = name_q(term.names, prefix, name_lookup)
    if names is not None:
        condition |= names
    if term.date is not None:
        condition |= Q(**{f"{prefix}date_of_birth": term.date})
    return condition


def with_phone(queryset: QuerySet[Any], term: Term, field_name: str) -> QuerySet[Any]:
    """Rows whose phone ends with the term's last ten digits ("+1 (212) 555-0100" finds
    "212-555-0100"); none when the term is not a phone number."""
    if not term.phone_digits:
        return queryset.none()
    return queryset.annotate(_digits=digits_only(field_name)).filter(
        _digits__endswith=term.phone_digits[-10:]
    )


def matching_patients(
    queryset: QuerySet[Any], raw: str, name_lookup: str = "icontains"
) -> QuerySet[Any]:
    """The patients of ``queryset`` matching a box entry (one query, no duplicates: no
    condition joins a many-valued relation)."""
    term = parse(raw)
    if not term.text:
        return queryset
    condition = patient_q(term, name_lookup=name_lookup)
    if term.phone_digits:
        queryset = queryset.alias(_digits=digits_only("phone"))
        condition |= Q(_digits__endswith=term.phone_digits[-10:])
    return queryset.filter(condition)
