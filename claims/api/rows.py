"""The claim list's rows built directly (issue 10): what ``ClaimListSerializer`` answers for
each claim, the same keys in the same order with the same values, without DRF's per-field
``get_attribute``/``to_representation`` walk (about a third of the list's CPU: 23 fields
times 50 rows, each through several calls, plus the fields' deep copy per request).

``tests/claims/test_api_rows.py`` serializes the same claims both ways and compares the
dicts and their JSON bytes: a field added to ``ClaimListSerializer`` goes here too (the
test compares the keys, so a forgotten one fails it).
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from claims import priority
from claims.choices import ClaimStatus, NextAction
from claims.models import MONEY

# ``ChoiceField.to_representation``: the choice whose string form is the value's, else the
# value as it is ('' and None stay as they are).
_STATUS = {str(value): value for value in ClaimStatus.values}
_NEXT_ACTION = {str(value): value for value in NextAction.values}
# The serializer's money fields (ModelSerializer maps ``MONEY`` columns to this): the
# reference for any amount the shortcut below does not cover.
_MONEY_FIELD = serializers.DecimalField(**MONEY, read_only=True)
_CENTS = MONEY["decimal_places"]


# The columns the rows, the claims' priority explanation (``priority.compute``), the page's
# cursor (priority, id) and the PHI log (practice, patient) read: the list's queryset loads
# only these (``ClaimViewSet.get_queryset``). A column read but not listed would be loaded
# one query per row: ``test_api_rows`` serializes a page with no query.
LIST_COLUMNS = (
    "id",
    "practice_id",
    "pms_claim_number",
    "patient_id",
    "payer_id",
    "status",
    "owner_id",
    "next_action",
    "next_action_due",
    "wait_reason",
    "total_billed",
    "total_allowed",
    "total_paid",
    "total_adjusted",
    "patient_responsibility",
    "follow_up_count",
    "priority",
    "version",
    "service_date_from",
    "timely_filing_deadline",
    "patient__id",
    "patient__first_name",
    "patient__last_name",
    "payer__id",
    "payer__name",
    "owner__id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def _choice(choices: dict[str, Any], value: Any) -> Any:
    if value is None or value == "":
        return value
    return choices.get(str(value), value)


def _money(value: Any) -> str | None:
    """``DecimalField(max_digits=12, decimal_places=2).to_representation``: a finite amount
    of whole cents that fits the digits is written as it is (quantizing changes nothing);
    anything else goes through the DRF field."""
    if value is None:
        return None
    if type(value) is Decimal and value.is_finite():
        sign_digits_exponent = value.as_tuple()
        if (
            sign_digits_exponent.exponent == -_CENTS
            and len(sign_digits_exponent.digits) <= MONEY["max_digits"]
        ):
            return f"{value:f}"
    return str(_MONEY_FIELD.to_representation(value))


def _date(value: Any) -> str | None:
    """``DateField.to_representation`` (ISO 8601): falsy is None, a string stays."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    assert not isinstance(value, dt.datetime), "a date field holds a datetime"
    return str(value.isoformat())


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def display_name(user: Any) -> str | None:
    """A user's full name, else their username; ``None`` for no user."""
    return (user.get_full_name() or user.get_username()) if user is not None else None


def claim_list_rows(claims: Iterable[Any], today: dt.date | None = None) -> list[dict[str, Any]]:
    """``ClaimListSerializer(claims, many=True).data``'s rows (``claims`` with ``patient``,
    ``payer`` and ``owner`` selected). The priority explanation is of one ``today`` for the
    whole page (the serializer reads the date again for each row)."""
    today = today or timezone.localdate()
    return [
        _row(claim, str(claim.patient), claim.payer.name, display_name(claim.owner), today)
        for claim in claims
    ]


# A claim of the list read as values (``claims.api.list_reads``): its own columns by their
# attribute names, which is what ``priority``, the PHI log (``practice_id``, ``patient_id``)
# and the cursor (``priority``, ``id``) read, then its patient's, payer's and owner's.
CLAIM_COLUMNS = tuple(name for name in LIST_COLUMNS if "__" not in name)
VALUE_COLUMNS = (
    *CLAIM_COLUMNS,
    "patient__first_name",
    "patient__last_name",
    "payer__name",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)
ClaimValues = namedtuple(  # type: ignore[misc]  # fields named from VALUE_COLUMNS
    "ClaimValues", [name.replace("__", "_") for name in VALUE_COLUMNS]
)


def claim_value_rows(claims: Iterable[Any], today: dt.date | None = None) -> list[dict[str, Any]]:
    """``claim_list_rows`` of claims read as ``ClaimValues``: the patient's name as
    ``Patient.__str__`` writes it, the owner's as ``display_name`` (``get_full_name``, else
    ``get_username``); ``tests/claims/test_api_list_reads.py`` compares the answers."""
    today = today or timezone.localdate()
    rows = []
    for claim in claims:
        owner = None
        if claim.owner_id is not None:
            full = f"{claim.owner_first_name} {claim.owner_last_name}".strip()
            owner = full or claim.owner_username
        patient = f"{claim.patient_last_name}, {claim.patient_first_name}"
        rows.append(_row(claim, patient, claim.payer_name, owner, today))
    return rows


def _row(
    claim: Any, patient_name: str, payer_name: Any, owner_name: str | None, today: dt.date
) -> dict[str, Any]:
    return {
        "id": _int(claim.id),
        "practice": claim.practice_id,
        "pms_claim_number": _text(claim.pms_claim_number),
        "patient": claim.patient_id,
        "patient_name": patient_name,
        "payer": claim.payer_id,
        "payer_name": _text(payer_name),
        "status": _choice(_STATUS, claim.status),
        "owner": claim.owner_id,
        "owner_name": owner_name,
        "next_action": _choice(_NEXT_ACTION, claim.next_action),
        "next_action_due": _date(claim.next_action_due),
        "wait_reason": _text(claim.wait_reason),
        "total_billed": _money(claim.total_billed),
        "total_allowed": _money(claim.total_allowed),
        "total_paid": _money(claim.total_paid),
        "total_adjusted": _money(claim.total_adjusted),
        "patient_responsibility": _money(claim.patient_responsibility),
        "balance": f"{priority.balance(claim):.2f}",
        "follow_up_count": _int(claim.follow_up_count),
        "priority": _int(claim.priority),
        "priority_explanation": priority.explain(claim, today),
        "version": _int(claim.version),
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
