"""API tokens (issue 8, point 8): hashed (django-rest-knox), expiring, listed, revocable.

People create and revoke their own tokens on ``/account/tokens/`` (``token_views``), only
from an MFA-verified session and after a step-up; service accounts get theirs from
``manage.py create_api_token``. knox stores only the SHA-512 of a token; ``ApiToken``
(practices.models) adds its name, origin, last use and revocation.

A token authenticates only if it was issued here (it has an ``ApiToken`` row): a knox row
made any other way, e.g. in a shell, is refused, so no token of a user who must use MFA
exists without an MFA-verified session or the service-account command behind it. Tokens
are revoked with the account: ``services.sync_user_access`` calls ``revoke_all`` when a
user is left with no access (deactivated, last membership or assignment revoked or ended).
"""

from __future__ import annotations

import binascii
import datetime as dt
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from billing_ops.compiled import STR_MARK, CompiledRead
from practices.models import ApiToken

LAST_USED_GRANULARITY = dt.timedelta(minutes=1)  # at most one write a minute per token
MAX_LIVE_TOKENS = 20  # per user: enough for every script and device, bounds the list


def ttl() -> dt.timedelta:
    """How long a new token lives (setting ``API_TOKEN_TTL_DAYS``, 90 by default)."""
    return dt.timedelta(days=int(getattr(settings, "API_TOKEN_TTL_DAYS", 90)))


def live_tokens(user: Any) -> Any:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, token__isnull=False, token__expiry__gt=timezone.now()
    )


def tokens_for(user: Any) -> Any:
    """Every token row of the user (live, expired and revoked), newest first."""
    return ApiToken.objects.filter(user=user).select_related("revoked_by")


def _issue(*, actor: Any, user: Any, name: str, via: str) -> tuple[ApiToken, str]:
    expiry = ttl()
    knox_token, plain = AuthToken.objects.create(user=user, expiry=expiry)
    record = ApiToken(
        user=user,
        token=knox_token,
        name=name,
        hint=plain[:6],
        via=via,
        created_by=actor,
        expires_at=knox_token.expiry,
    )
    record.full_clean()
    record.save()
    return record, plain


@transaction.atomic
def token_create(*, actor: Any, name: str, mfa_verified: bool) -> tuple[ApiToken, str]:
    """A new token for the actor themself, from the tokens page; returns the row and the
    plain token, which is shown once and never stored. Refused unless the session that
    asks has passed its second factor (the page also asks for a fresh step-up)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in to create API tokens.")
    if not mfa_verified:
        raise PermissionDenied("API tokens are issued only to a session verified with MFA.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token (e.g. the script that will use it)."})
    if live_tokens(actor).count() >= MAX_LIVE_TOKENS:
        raise ValidationError(
            {"name": f"You have {MAX_LIVE_TOKENS} live tokens; revoke one you no longer use."}
        )
    return _issue(actor=actor, user=actor, name=name[:80], via=ApiToken.Via.PAGE)


@transaction.atomic
def service_token_issue(*, user: Any) -> tuple[ApiToken, str]:
    """The service-account command's token: replaces the user's earlier command-issued
    token (a re-issue retires the old one); page-issued tokens are left alone."""
    if not user.is_active:
        raise ValidationError(f"User {user.get_username()!r} is deactivated; no token issued.")
    earlier = ApiToken.objects.filter(
        user=user, via=ApiToken.Via.COMMAND, revoked_at__isnull=True
    ).select_related("token")
    for record in earlier:
        _revoke(record, actor=None, reason="Re-issued by the create_api_token command.")
    return _issue(actor=None, user=user, name="Service account (command)", via=ApiToken.Via.COMMAND)


def _revoke(record: ApiToken, *, actor: Any, reason: str) -> None:
    if record.token_id is not None:
        AuthToken.objects.filter(pk=record.token_id).delete()  # SET_NULL on the record
    record.token = None
    record.revoked_at = timezone.now()
    record.revoked_by = actor
    record.revoke_reason = reason[:200]
    record.save(update_fields=["token", "revoked_at", "revoked_by", "revoke_reason"])


@transaction.atomic
def token_revoke(*, actor: Any, record: ApiToken) -> ApiToken:
    """Revoke one token: its owner (or an administrator) does it; at once."""
    if actor is None or (actor.pk != record.user_id and not actor.is_superuser):
        raise PermissionDenied("You may revoke only your own tokens.")
    if record.revoked_at is None:
        _revoke(record, actor=actor, reason="Revoked by its owner.")
    return record


@transaction.atomic
def revoke_all(*, actor: Any, user: Any, reason: str) -> int:
    """Revoke every token of the user (knox rows without a record too); how many."""
    count = 0
    for record in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        _revoke(record, actor=actor, reason=reason)
        count += 1
    AuthToken.objects.filter(user=user).delete()
    return count


def touch_last_used(record: ApiToken, now: dt.datetime) -> None:
    """Note a use, at most once a minute per token (one UPDATE, only when due)."""
    if record.last_used_at is not None and now - record.last_used_at < LAST_USED_GRANULARITY:
        return
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    record.last_used_at = now


def _token_rows(token_key: str) -> Any:
    """The knox rows of a token key, with their user and their ``ApiToken`` record."""
    return AuthToken.objects.filter(token_key=token_key).select_related("user", "record")


# Read by a statement compiled once per process (``billing_ops.compiled``; issue 10, speed):
# the ORM compiled this read on every token request, for more CPU than running it.
token_rows = CompiledRead(lambda: AuthToken, _token_rows, (STR_MARK,))


class ApiTokenAuthentication(TokenAuthentication):
    """knox's ``Authorization: Token <token>``, plus: the token must have been issued here
    (an ``ApiToken`` row, not revoked), expiry is checked without knox's per-request scan
    of the user's other tokens, and the last use is noted (at most once a minute).

    One query per request: the knox row by its key prefix with its user and record."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        invalid = exceptions.AuthenticationFailed("Invalid token.")
        try:
            text = token.decode("utf-8")
            digest = hash_token(text)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise invalid from None
        candidates = token_rows(text[: CONSTANTS.TOKEN_KEY_LENGTH])
        now = timezone.now()
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry <= now:
                raise exceptions.AuthenticationFailed("Token expired.")
            record: ApiToken | None = getattr(auth_token, "record", None)
            if record is None or record.revoked_at is not None:
                raise invalid
            user, _ = self.validate_user(auth_token)  # inactive user: refused
            touch_last_used(record, now)
            return user, auth_token
        raise invalid


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of ``ApiTokenAuthentication`` (knox's, by subclass)."""

    target_class = "practices.tokens.ApiTokenAuthentication"
    name = "tokenAuth"
