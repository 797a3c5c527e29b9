"""The API token's knox rows read by a statement compiled once (``tokens.token_rows``,
issue 10): the same rows, users and records, field by field, as the ORM's read, for a live
token, a revoked one, one made outside the service (no record), two sharing a key prefix
and a key with no row; the statement is compiled, not the ORM fallback."""

from __future__ import annotations

from typing import Any

from knox.models import AuthToken
from knox.settings import CONSTANTS

from practices import tokens


def _fields(obj: Any) -> Any:
    if obj is None:
        return None
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _in_full(rows: list[Any]) -> list[Any]:
    return [
        (
            _fields(row),
            _fields(row.user),
            _fields(getattr(row, "record", None)),
            sorted(row._state.fields_cache),
        )
        for row in rows
    ]


def test_token_rows_are_the_orms(world):
    live, live_plain = tokens.token_create(actor=world.bill, name="live", mfa_verified=True)
    revoked, revoked_plain = tokens.token_create(actor=world.vera, name="gone", mfa_verified=True)
    tokens.token_revoke(actor=world.vera, record=revoked)
    _, shell_plain = AuthToken.objects.create(user=world.val)  # no ApiToken record
    twin = AuthToken.objects.get(pk=live.token_id)
    AuthToken.objects.filter(pk=AuthToken.objects.create(user=world.sam)[0].pk).update(
        token_key=twin.token_key
    )
    keys = [p[: CONSTANTS.TOKEN_KEY_LENGTH] for p in (live_plain, revoked_plain, shell_plain)]

    seen = 0
    for key in [*keys, "no-such-key"]:
        fast = tokens.token_rows(key)
        plain = tokens.token_rows(key, plain=True)
        assert sorted(_in_full(fast), key=repr) == sorted(_in_full(plain), key=repr), key
        seen += len(fast)

    assert seen == 3  # the live token and its twin, the shell token; the revoked one is gone
    (statement,) = tokens.token_rows._statements.values()
    assert statement.ok
    assert {row.user_id for row in tokens.token_rows(keys[0])} == {world.bill.pk, world.sam.pk}
    assert getattr(tokens.token_rows(keys[2])[0], "record", None) is None
