"""Who may do what at which practice: resolved once per request, and the reverse question.

Permissions are rows of the tenant permission table (``settings.ACCESS_PERMISSION_MODEL``:
django-guardian direct-FK rows on ``settings.ACCESS_TENANT_MODEL`` objects), derived from
memberships and assignments by ``practices.services``. This module is the only reader of
that table. The rules, the same in both directions:

- an anonymous or inactive user holds nothing;
- a superuser holds every permission on every active practice;
- anybody else holds exactly their rows on active practices that are in force: a row may
  carry its last day (``valid_until``, e.g. an assignment's end date) and is ignored after
  it, so an end date takes effect on the next request (revoked memberships and ended
  assignments then lose their rows: the services and the periodic expiry delete them).

``grants_for(user)`` answers "what does this user hold" with one query, cached for the
rest of the request by ``AccessMiddleware`` (outside a request, e.g. in Celery tasks and
shell sessions, every call reads afresh unless the work opens ``grants_cache()``).
``holders`` and ``holder_condition`` answer "who holds X at practice P", for one practice
or per row of a queryset.

The models are named by settings, as ``AUTH_USER_MODEL`` is, so the kernel stays below
the apps that define them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connections, models, router
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from billing_ops.audit import OutOfScope, log_scope_denial
from billing_ops.bulk import any_of
from billing_ops.compiled import (
    DATE_MARK,
    INT_MARK,
    STR_MARK,
    CompiledRead,
    CompiledValues,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    AnyUser = AbstractBaseUser | AnonymousUser
    # The acting user of a service call: a signed-in user (``AUTH_USER_MODEL``), or None
    # for the system itself (a nightly job, a migration, the demo seeder).
    Actor = User | None

SESSION_PRACTICE_KEY = "practice_id"
VIEW_PRACTICE = "view_practice"


def tenant_model() -> type[models.Model]:
    """The practice model (``settings.ACCESS_TENANT_MODEL``)."""
    return apps.get_model(settings.ACCESS_TENANT_MODEL)


def permission_model() -> type[models.Model]:
    """The per-practice user permission table (``settings.ACCESS_PERMISSION_MODEL``)."""
    return apps.get_model(settings.ACCESS_PERMISSION_MODEL)


@dataclass(frozen=True)
class Grants:
    """Everything one user holds: codename -> practice ids (``everywhere`` for superusers)."""

    user_id: int | None
    by_codename: Mapping[str, frozenset[int]] = field(default_factory=dict)
    everywhere: frozenset[int] | None = None

    def practice_ids(self, codename: str) -> frozenset[int]:
        """The practices where the user holds ``codename``."""
        if self.everywhere is not None:
            return self.everywhere
        return self.by_codename.get(codename, frozenset())

    def has(self, codename: str, practice_id: int | None) -> bool:
        """Whether the user holds ``codename`` at one practice."""
        return practice_id is not None and practice_id in self.practice_ids(codename)

    def codenames_at(self, practice_id: int) -> frozenset[str]:
        """Every codename the user holds at one practice (``{"*"}`` for a superuser)."""
        if self.everywhere is not None:
            return frozenset({"*"}) if practice_id in self.everywhere else frozenset()
        return frozenset(code for code, ids in self.by_codename.items() if practice_id in ids)


NO_GRANTS = Grants(None)
_request_cache: ContextVar[dict[int, Grants] | None] = ContextVar(
    "billing_ops_access_cache", default=None
)


def in_force(prefix: str = "", day: dt.date | None = None) -> Q:
    """Permission rows not past their last day (``valid_until``; the practices' dates):
    today's, or ``day``'s."""
    return Q(**{f"{prefix}valid_until__isnull": True}) | Q(
        **{f"{prefix}valid_until__gte": timezone.localdate() if day is None else day}
    )


def _rows_of(user_id: int, day: dt.date | None = None) -> models.QuerySet[Any]:
    """A user's permission rows in force at active practices: (codename, practice id)."""
    return (
        permission_model()
        ._default_manager.filter(in_force(day=day), user_id=user_id, content_object__is_active=True)
        .values_list("permission__codename", "content_object_id")
    )


# The statement of ``_rows_of`` compiled once per process and database (issue 10, speed:
# every request reads its user's grants, and the ORM's compile of the joined query cost
# more CPU than running it): its SQL with the user and the day as marks in its parameters.
_USER_MARK = -8_675_309
_DAY_MARK = dt.date(1901, 2, 3)
_compiled_rows: dict[tuple[str, str], tuple[str, tuple[Any, ...]] | None] = {}


def _rows_compiled(user_id: int) -> list[tuple[str, int]] | None:
    """``_rows_of(user_id)`` run from its compiled statement; None when the statement does
    not carry the user and the day once each as parameters (then the ORM runs it)."""
    alias = router.db_for_read(permission_model())
    key = (alias, settings.ACCESS_PERMISSION_MODEL)
    if key not in _compiled_rows:
        sql, params = _rows_of(_USER_MARK, _DAY_MARK).query.get_compiler(alias).as_sql()
        users = [p for p in params if type(p) is int and p == _USER_MARK]
        days = [p for p in params if type(p) is dt.date and p == _DAY_MARK]
        _compiled_rows[key] = (sql, tuple(params)) if len(users) == len(days) == 1 else None
    compiled = _compiled_rows[key]
    if compiled is None:
        return None
    sql, template = compiled
    today = timezone.localdate()
    params = [
        user_id
        if type(p) is int and p == _USER_MARK
        else today
        if type(p) is dt.date and p == _DAY_MARK
        else p
        for p in template
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return [(str(codename), int(pk)) for codename, pk in cursor.fetchall()]


def _load(user: Any, *, plain: bool = False) -> Grants:
    if user.is_superuser:
        active = tenant_model()._default_manager.filter(is_active=True)
        return Grants(user.pk, everywhere=frozenset(active.values_list("pk", flat=True)))
    rows = None if plain else _rows_compiled(user.pk)
    if rows is None:
        rows = list(_rows_of(user.pk))
    by_codename: dict[str, set[int]] = defaultdict(set)
    for codename, practice_id in rows:
        by_codename[codename].add(practice_id)
    return Grants(user.pk, {code: frozenset(ids) for code, ids in by_codename.items()})


def grants_for(user: AnyUser | None) -> Grants:
    """What ``user`` holds; one query, reused for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_GRANTS
    cache = _request_cache.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    grants = _load(user)
    if cache is not None:
        cache[user.pk] = grants
    return grants


@contextmanager
def grants_cache() -> Iterator[None]:
    """One grants cache for a unit of work outside a request (an import job run by its task
    or a command), as ``AccessMiddleware`` opens one per request: each user's grants are read
    once for its duration. Inside a request (or another such block) the open cache is used."""
    if _request_cache.get() is not None:
        yield
        return
    token = _request_cache.set({})
    try:
        yield
    finally:
        _request_cache.reset(token)


def forget(user_id: int) -> None:
    """Drop a user's cached grants (their access was just re-derived in this request)."""
    cache = _request_cache.get()
    if cache is not None:
        cache.pop(user_id, None)


def grants_fingerprint(grants: Grants) -> str:
    """A digest of what ``grants`` holds (``grants_unchanged_sql`` computes it in SQL)."""
    if grants.everywhere is not None:
        parts = sorted(str(pk) for pk in grants.everywhere)
    else:
        parts = sorted(f"{code}:{pk}" for code, ids in grants.by_codename.items() for pk in ids)
    return hashlib.md5(",".join(parts).encode(), usedforsecurity=False).hexdigest()


def grants_unchanged_sql(user: Any, grants: Grants, using: str) -> tuple[str, list[Any]]:
    """A SQL condition, true while reading ``user``'s grants now (same rules as
    ``grants_for``: active, superuser or their rows in force at active practices) would
    give ``grants``: for a statement run with grants kept beyond a request, so a changed
    access is seen by the statement itself. The day of ``in_force`` is today's: a caller
    keeps the condition for one day."""
    from django.db.models import CharField, TextField, Value
    from django.db.models.functions import Cast, Concat

    superuser = grants.everywhere is not None
    person = get_user_model()._default_manager.filter(
        pk=user.pk, is_active=True, is_superuser=superuser
    )
    if superuser:
        rows = tenant_model()._default_manager.filter(is_active=True)
        rows = rows.annotate(g=Cast("pk", TextField()))
    else:
        rows = permission_model()._default_manager.filter(
            in_force(), user_id=user.pk, content_object__is_active=True
        )
        rows = rows.annotate(
            g=Concat(
                "permission__codename",
                Value(":"),
                Cast("content_object_id", TextField()),
                output_field=CharField(),
            )
        )
    rows_sql, rows_params = rows.values("g").distinct().query.get_compiler(using).as_sql()
    person_sql, person_params = person.values("pk").query.get_compiler(using).as_sql()
    sql = (
        f"(EXISTS ({person_sql}) AND (SELECT md5(COALESCE(string_agg(f.g, ',' "
        f"ORDER BY f.g COLLATE \"C\"), '')) FROM ({rows_sql}) f) = %s)"
    )
    return sql, [*person_params, *rows_params, grants_fingerprint(grants)]


def has_perm(user: AnyUser | None, codename: str, practice_id: int | None) -> bool:
    """Whether ``user`` holds ``codename`` at one practice."""
    return grants_for(user).has(codename, practice_id)


def visible_practice_ids(user: AnyUser | None, codename: str) -> frozenset[int]:
    """The practices where ``user`` holds ``codename``."""
    return grants_for(user).practice_ids(codename)


# --- the reverse question ---------------------------------------------------------------


def _superuser_clause(prefix: str) -> Q:
    return Q(**{f"{prefix}is_superuser": True})


def holders(codename: str, practice_id: int) -> models.QuerySet[Any]:
    """Active users who hold ``codename`` at one practice (superusers included)."""
    return holders_among(codename, [practice_id])


def holders_among(codename: str, practice_ids: Iterable[int]) -> models.QuerySet[Any]:
    """Active users who hold ``codename`` at any of ``practice_ids`` (superusers included
    when one of them is active), as one lazy queryset: a lookup in it is one query."""
    return holders_of_any([codename], practice_ids)


def holders_of_any(
    codenames: Iterable[str], practice_ids: Iterable[int], day: dt.date | None = None
) -> models.QuerySet[Any]:
    """Active users who hold any of ``codenames`` at any of ``practice_ids`` on ``day``
    (today by default; superusers included when one of the practices is active): the
    union of ``holders_among`` over the codenames as one statement, one ``IN`` of the
    codenames instead of one OR'd subquery each (what the work pages' owner lists ask).
    No codenames, nobody (as the union over none; an empty ``IN`` would drop out of the
    OR and leave the superusers)."""
    codes = sorted(set(codenames))
    if not codes:
        return get_user_model()._default_manager.none()
    wanted = sorted(set(practice_ids))
    day = timezone.localdate() if day is None else day
    key = (tuple(codes), tuple(wanted), day, get_user_model(), permission_model(), tenant_model())
    kept = _holders_kept.get(key)
    if kept is None:
        if len(_holders_kept) >= HOLDERS_KEPT:
            _holders_kept.clear()
        kept = _holders_kept[key] = _holders_of_any(codes, wanted, day)
    return kept.all()


# holders_of_any's querysets by everything their SQL depends on (issue 10, speed): the
# queue filters build one on every queue page and API call, an ORM build of 0.6-0.9 ms
# that most of them never run. A caller gets a clone (``.all()``): the same lazy statement,
# run afresh against the grants of that moment (nothing but the built query is kept).
HOLDERS_KEPT = 512
_holders_kept: dict[tuple[Any, ...], models.QuerySet[Any]] = {}


def _holders_of_any(codes: list[str], wanted: list[int], day: dt.date) -> models.QuerySet[Any]:
    granted = permission_model()._default_manager.filter(
        in_force(day=day),
        permission__codename__in=codes,
        content_object_id__in=wanted,
        content_object__is_active=True,
    )
    active_practice = tenant_model()._default_manager.filter(pk__in=wanted, is_active=True)
    return (
        get_user_model()
        ._default_manager.filter(is_active=True)
        .filter(
            Q(pk__in=granted.values("user_id"))
            | (Q(is_superuser=True) & Q(Exists(active_practice)))
        )
    )


def holder_condition(codename: str, user_field: str, practice_field: str = "practice") -> Q:
    """A per-row condition: the user in ``user_field`` holds ``codename`` at the row's
    practice (``practice_field``). For querysets of items, e.g. owners who may still work."""
    granted = permission_model()._default_manager.filter(
        in_force(),
        user_id=OuterRef(f"{user_field}_id"),
        content_object_id=OuterRef(f"{practice_field}_id"),
        permission__codename=codename,
    )
    active = Q(**{f"{user_field}__is_active": True}, **{f"{practice_field}__is_active": True})
    return active & (_superuser_clause(f"{user_field}__") | Q(Exists(granted)))


def _holder_rows(
    codename: str, wanted: list[int], user_ids: list[int] | None, day: dt.date
) -> models.QuerySet[Any]:
    rows = permission_model()._default_manager.filter(
        in_force(day=day),
        any_of("content_object_id", wanted),
        permission__codename=codename,
        content_object__is_active=True,
        user__is_active=True,
    )
    if user_ids is not None:
        rows = rows.filter(any_of("user_id", user_ids))
    return rows.values_list("content_object_id", "user_id")


def _super_rows(user_ids: list[int] | None) -> models.QuerySet[Any]:
    supers = get_user_model()._default_manager.filter(is_active=True, is_superuser=True)
    if user_ids is not None:
        supers = supers.filter(any_of("pk", user_ids))
    return supers.values_list("pk")


def _active_rows(wanted: list[int]) -> models.QuerySet[Any]:
    return (
        tenant_model()
        ._default_manager.filter(any_of("pk", wanted), is_active=True)
        .values_list("pk")
    )


# ``holders_by_practice``'s reads, compiled once per process (issue 10, speed: Unassigned
# asks on every page, and the ORM's compile of the three was ~1 ms of it). Two list marks
# apart, so each array has its own parameter.
_OTHER_MARK = -7_340_029
_holder_reads = {
    "rows": CompiledValues(
        permission_model,
        _holder_rows,
        (STR_MARK, [INT_MARK], [_OTHER_MARK], DATE_MARK),
    ),
    "rows, anyone": CompiledValues(
        permission_model,
        lambda c, w, d: _holder_rows(c, w, None, d),
        (STR_MARK, [INT_MARK], DATE_MARK),
    ),
    "supers": CompiledValues(get_user_model, _super_rows, ([INT_MARK],)),
    "supers, anyone": CompiledValues(get_user_model, lambda: _super_rows(None), ()),
    "active": CompiledValues(tenant_model, _active_rows, ([INT_MARK],)),
}


def holders_by_practice(
    codename: str,
    practice_ids: Iterable[int],
    user_ids: Iterable[int] | None = None,
    *,
    plain: bool = False,
) -> dict[int, set[int]]:
    """practice id -> ids of active users holding ``codename`` there (one query for rows,
    one for superusers, one for the practices when there are superusers), optionally among
    ``user_ids`` only; ``plain``: through the ORM (the tests' reference)."""
    wanted = sorted(set(practice_ids))
    result: dict[int, set[int]] = {pk: set() for pk in wanted}
    among = None if user_ids is None else sorted(set(user_ids))
    day = timezone.localdate()
    if among is None:
        rows = _holder_reads["rows, anyone"](codename, wanted, day, plain=plain)
        supers = _holder_reads["supers, anyone"](plain=plain)
    else:
        rows = _holder_reads["rows"](codename, wanted, among, day, plain=plain)
        supers = _holder_reads["supers"](among, plain=plain)
    for practice_id, user_id in rows:
        result[practice_id].add(user_id)
    super_ids = {pk for (pk,) in supers}
    if super_ids:
        for (practice_id,) in _holder_reads["active"](wanted, plain=plain):
            result[practice_id] |= super_ids
    return result


# --- per request ------------------------------------------------------------------------


def _active_of(ids: list[int]) -> models.QuerySet[Any]:
    return tenant_model()._default_manager.filter(any_of("pk", ids), is_active=True)


# The switcher's practices, read on every page: the ORM's statement compiled once per
# process and database, its ids one array (issue 10, speed); the ORM where the array is
# not a parameter as given (SQLite for `make run`).
_practices_read = CompiledRead(tenant_model, _active_of, ([_USER_MARK],))


def _active_practices(ids: Iterable[int], *, plain: bool = False) -> list[Any]:
    """The active practices among ``ids`` in the model's order (the switcher's list)."""
    return _practices_read(sorted(ids), plain=plain)


class RequestAccess:
    """The signed-in user's grants and current practice, resolved once for one request."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self._practices: list[Any] | None = None
        self._current: Any = None
        self._current_resolved = False

    @property
    def user(self) -> Any:
        return self.request.user

    @property
    def grants(self) -> Grants:
        return grants_for(self.user)

    def has(self, codename: str, practice_id: int | None = None) -> bool:
        """Whether the user holds ``codename`` (at ``practice_id``, default the current one)."""
        if practice_id is None:
            current = self.practice
            practice_id = current.pk if current is not None else None
        return self.grants.has(codename, practice_id)

    @property
    def practices(self) -> list[Any]:
        """The practices the user may open at all (the switcher's list)."""
        if self._practices is None:
            ids = self.grants.practice_ids(VIEW_PRACTICE)
            self._practices = _active_practices(ids) if ids else []
        return self._practices

    @property
    def practice(self) -> Any:
        """The practice chosen in the switcher if still visible, else the first one."""
        if not self._current_resolved:
            visible = self.practices
            session = getattr(self.request, "session", None)
            chosen = session.get(SESSION_PRACTICE_KEY) if session is not None else None
            self._current = next(
                (p for p in visible if p.pk == chosen), visible[0] if visible else None
            )
            self._current_resolved = True
        return self._current

    def practice_or_404(self, codename: str) -> Any:
        """The current practice if the user holds ``codename`` there; else 404."""
        practice = self.practice
        if practice is None or not self.grants.has(codename, practice.pk):
            raise Http404("Not found.")
        return practice


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a request, as the ``actor`` of a service call. For views that
    require sign-in (``scoped_page``, ``ScopedPageMixin``): an anonymous request here is
    refused."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def request_access(request: HttpRequest) -> RequestAccess:
    """The request's access object (made on first use when no middleware set it)."""
    access = getattr(request, "access", None)
    if access is None:
        access = RequestAccess(request)
        request.access = access  # type: ignore[attr-defined]
    return cast(RequestAccess, access)


class AccessMiddleware:
    """Gives every request ``request.access`` and one grants cache for its duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_cache.set({})
        try:
            request.access = RequestAccess(request)  # type: ignore[attr-defined]
            return self.get_response(request)
        finally:
            _request_cache.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Logs a page's 404 for an existing object outside the user's scope; the answer
        stays the plain 404 (``billing_ops.pages``)."""
        if isinstance(exception, OutOfScope):
            log_scope_denial(request, exception.model)
