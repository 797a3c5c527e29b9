"""The statement cycle page in the permission matrix: practice managers only (MANAGE_SOPS:
sam at Sunrise; mia sees and changes Maple's cycle, never Sunrise's); billers, the front
desk and vendor staff get 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ar import cycles
from ar.statement_models import StatementCycle
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin


def _changed_by(c: Case) -> bool:
    return StatementCycle.history.filter(history_user=c.user, day_of_month=17).exists()


class TestStatementCycleMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        cycles.statement_cycle_update(
            actor=world.sam, practice=world.sunrise, day_of_month=6, minimum_balance="6.43"
        )

    endpoints = [
        Endpoint(
            "statement cycle page",
            "get",
            lambda w: "/statements/cycle/",
            frozenset({"sam"}),
            marker=lambda w: "$6.43",
            route="statement-cycle",
        ),
        # mia changes Maple's cycle (her current practice); Sunrise's stays as it was.
        Endpoint(
            "statement cycle save",
            "post",
            lambda w: "/statements/cycle/",
            frozenset({"sam", "mia"}),
            ok_status=302,
            data=lambda w: {"day_of_month": "17", "minimum_balance": "9.00"},
            route="statement-cycle",
            done=_changed_by,
        ),
    ]


def test_mia_never_changes_sunrises_cycle(world: Any, client_for: Any) -> None:
    cycles.statement_cycle_update(
        actor=world.sam, practice=world.sunrise, day_of_month=6, minimum_balance="6.43"
    )
    response = client_for(world.mia).post(
        "/statements/cycle/", {"day_of_month": "17", "minimum_balance": "9.00"}
    )
    assert response.status_code == 302
    sunrise = StatementCycle.objects.get(practice=world.sunrise)
    assert (sunrise.day_of_month, sunrise.minimum_balance) == (6, Decimal("6.43"))
    assert StatementCycle.objects.get(practice=world.maple).day_of_month == 17
