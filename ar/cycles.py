"""The practice's statement cycle, as a manager sets it: the day of the month statements
go out and the smallest balance that gets one. Every change is kept in the cycle's history
(who, when, from what); the dunning stages (first, second, final notice by the age of the
oldest unpaid charge) and their wording are fixed in ``ar.account_choices``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ar.statement_models import DEFAULT_CYCLE_DAY, DEFAULT_MINIMUM, StatementCycle
from billing_ops.access import has_perm
from practices import permissions as perms

if TYPE_CHECKING:
    from billing_ops.access import Actor
    from practices.models import Practice

LAST_DAY = 28  # every month has it
MAX_MINIMUM = Decimal("10000.00")


def _day(value: Any) -> int:
    try:
        day = int(value)
    except (TypeError, ValueError):
        day = 0
    if isinstance(value, bool | float) or not 1 <= day <= LAST_DAY:
        raise ValidationError(
            {"day_of_month": f"Choose a day from 1 to {LAST_DAY} (every month has it)."}
        )
    return day


def _minimum(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ArithmeticError):
        raise ValidationError({"minimum_balance": f"{value!r} is not an amount."}) from None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= MAX_MINIMUM:
        raise ValidationError(
            {"minimum_balance": f"Enter an amount from $0.01 to ${MAX_MINIMUM:,.2f}."}
        )
    return amount


@transaction.atomic
def statement_cycle_update(
    *, actor: Actor, practice: Practice, day_of_month: Any, minimum_balance: Any
) -> StatementCycle:
    """Set the practice's cycle (a manager's: MANAGE_SOPS); a change is one history row
    with the actor, an unchanged save writes nothing."""
    if actor is not None and not has_perm(actor, perms.MANAGE_SOPS, practice.pk):
        raise PermissionDenied("Only a practice manager changes the statement cycle.")
    day, minimum = _day(day_of_month), _minimum(minimum_balance)
    cycle = StatementCycle.objects.select_for_update().filter(practice=practice).first()
    if cycle is None:
        cycle = StatementCycle(
            practice=practice, day_of_month=DEFAULT_CYCLE_DAY, minimum_balance=DEFAULT_MINIMUM
        )
    elif (cycle.day_of_month, cycle.minimum_balance) == (day, minimum):
        return cycle
    cycle.day_of_month, cycle.minimum_balance = day, minimum
    cycle._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    cycle.save()
    return cycle
