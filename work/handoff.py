""" "Work next" at the cost of two statements: the best candidate of every type, then the hold.

A hand-off runs (the caller's grants are kept between calls and checked by the first
statement itself, see ``_grants``; they are read again only when a statement finds nothing):

1. one query for each registered type's best item the caller may take (``UNION ALL`` of
   the types' ``my_day_of_type`` rows nobody holds, best first), skipped when only one
   type can have any;
2. one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``
   on the chosen type: it takes that type's best row nobody holds or is taking right now
   and ranked above the runner-up of the other types, locks that row only, and returns it
   whole. The row lock plus PostgreSQL's re-check of the WHERE on the latest row version
   is what makes two concurrent callers never get the same item; rows another caller is
   taking are passed over, not waited for. When nothing is left above the runner-up (other
   callers took it meanwhile) step 1 runs again.

The SQL of both steps is what the ORM compiles from ``work.selectors.my_day_of_type``
(so the rows are exactly My day's), compiled once per (caller, day, practice, types, the
caller's practices for each type's permission) and kept: compiling the ~17 types' querysets
cost ~10-30 ms of CPU per call, more than the queries. A compiled statement binds only the
values that change per call (the time, the runner-up). ``ItemType.visible`` must keep
depending on the user's grants alone (it filters with ``visible_to``), which is what the
key holds; ``tests/work/test_work_next_fast.py`` compares this path with the plain ORM one
(``work.services.work_next_plain``) row by row. On PostgreSQL both statements are prepared
once per connection (``PREPARE``/``EXECUTE``): parsing and planning the UNION of ~12 types
cost the backend more than running it (PostgreSQL CPU per hand-off 4.5 -> 1.9 ms).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from billing_ops.access import (
    Grants,
    grants_cache,
    grants_fingerprint,
    grants_for,
    grants_unchanged_sql,
)
from work.models import WorkItem
from work.registry import ItemType, registry
from work.selectors import my_day_of_type

ATTEMPTS = 10
CACHE_SIZE = 2048


def unheld(now: dt.datetime) -> Q:
    """Nobody holds the item (or their hold has timed out)."""
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def candidates(
    item_type: ItemType, actor: Any, today: dt.date, now: dt.datetime, practice_id: int | None
) -> QuerySet[Any]:
    """The items of one type "work next" may hand the actor: My day's, nobody holding them."""
    rows = my_day_of_type(item_type, actor, today).filter(unheld(now))
    if practice_id is not None:
        rows = rows.filter(practice_id=practice_id)
    return rows


class _Slot:
    """A per-call value in a compiled statement's parameters (bound by identity)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


FLOOR_PRIORITY, FLOOR_PK = _Slot("floor priority"), _Slot("floor pk")


@dataclass
class _Statement:
    sql: str
    params: list[Any]
    slots: list[tuple[int, str]]  # (parameter index, "now" | "floor_priority" | "floor_pk")
    prepared_as: _Prepared | None = None  # set on its first PREPARE

    def bind(self, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        return params

    def prepared(self, literal: Any) -> tuple[str, list[str]]:
        """The statement for PREPARE: every value that is the same on each call written
        into the SQL as a literal (``literal(value)``), the per-call ones as ``$1, $2 ...``
        (one number per slot name), and the slot names in that order."""
        by_index = dict(self.slots)
        names: list[str] = []
        values = iter(enumerate(self.params))

        def place(match: re.Match[str]) -> str:
            if match.group() == "%%":
                return "%"
            index, value = next(values)
            name = by_index.get(index)
            if name is None:
                return str(literal(value))
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        return _PLACEHOLDER.sub(place, self.sql), names


# Server-side prepared statements, per connection (PostgreSQL): parsing and planning the
# candidates of ~12 types cost more than running them (2.3 of 2.6 ms of the backend's CPU).
# PREPARE outlives a rolled-back transaction; a new connection starts with none.
# A connection keeps at most MAX_PREPARED of them (the names hash SQL that holds the caller,
# the day and the practices, so a long-lived connection would otherwise collect them day
# after day); past it the oldest is DEALLOCATEd. Only our own names: psycopg's are its own.
PREPARE = True  # off: plain statements (the bench compares)
MAX_PREPARED = 256
_prepared: weakref.WeakKeyDictionary[Any, dict[str, None]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%%|%s")


@dataclass
class _Prepared:
    """A statement as prepared: its name (a hash of its SQL), SQL and the slots bound."""

    name: str
    sql: str
    slot_names: list[str]


def _prepare(wrapper: Any, statement: _Statement) -> _Prepared:
    sql, slot_names = statement.prepared(lambda value: wrapper.ops.compose_sql("%s", [value]))
    digest = hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()
    return _Prepared("work_next_" + digest, sql, slot_names)


def _run(
    db: str, statement: _Statement, values: dict[str, Any], rows: bool = True
) -> list[tuple[Any, ...]]:
    """The statement's rows, through a prepared statement where the database has them.

    Prepared, only the per-call values (the time, the runner-up, the hold) are bound: the
    rest (the caller, the practices, the day ...) is written into the prepared SQL once, so
    a call neither quotes nor sends the ~80 parameters of the UNION, nor has the backend
    parse them (the statement is per caller, day and practices anyway)."""
    wrapper = connections[db]
    with wrapper.cursor() as cursor:
        if not PREPARE or wrapper.vendor != "postgresql" or not statement.params:
            cursor.execute(statement.sql, statement.bind(values))
            return list(cursor.fetchall()) if rows else []
        prepared = _prepared.setdefault(wrapper.connection, {})
        info = statement.prepared_as
        if info is None:
            info = statement.prepared_as = _prepare(wrapper, statement)
        if info.name not in prepared:
            while len(prepared) >= MAX_PREPARED:
                oldest = next(iter(prepared))
                cursor.execute(f"DEALLOCATE {oldest}")
                del prepared[oldest]
            cursor.execute(f"PREPARE {info.name} AS {info.sql}")
            prepared[info.name] = None
        if info.slot_names:
            placeholders = ", ".join(["%s"] * len(info.slot_names))
            cursor.execute(
                f"EXECUTE {info.name}({placeholders})", [values[n] for n in info.slot_names]
            )
        else:
            cursor.execute(f"EXECUTE {info.name}")
        return list(cursor.fetchall()) if rows else []


def _statement(sql: str, params: Sequence[Any], now: dt.datetime) -> _Statement:
    slots: list[tuple[int, str]] = []
    for index, value in enumerate(params):
        if value is FLOOR_PRIORITY:
            slots.append((index, "floor_priority"))
        elif value is FLOOR_PK:
            slots.append((index, "floor_pk"))
        elif isinstance(value, dt.datetime) and value == now:
            slots.append((index, "now"))
    return _Statement(sql, list(params), slots)


@dataclass
class _Branch:
    """One type's compiled candidates: the best one, and the takes (by floor)."""

    index: int
    item_type: ItemType
    pool: QuerySet[Any]  # holds the time it was built with: ``now``
    now: dt.datetime
    top: _Statement
    takes: dict[str, _Statement] = field(default_factory=dict)
    guard: tuple[str, list[Any]] | None = None  # the plan's


@dataclass
class _Plan:
    branches: list[_Branch]
    tops: _Statement | None  # None when there is one branch
    cacheable: bool
    guard: tuple[str, list[Any]] | None = None  # the grants it was built with still hold
    fingerprint: str = ""


_cache: OrderedDict[tuple[Any, ...], _Plan] = OrderedDict()
_cache_lock = threading.Lock()


def _compile(qs: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.get_compiler(qs.db).as_sql()
    return sql, tuple(params)


def _plan(
    actor: Any,
    chosen: list[ItemType],
    today: dt.date,
    now: dt.datetime,
    practice_id: int | None,
    guard: tuple[str, list[Any]] | None = None,
) -> _Plan:
    branches: list[_Branch] = []
    cacheable = True
    for index, item_type in enumerate(chosen):
        pool = candidates(item_type, actor, today, now, practice_id)
        try:
            sql, params = _compile(
                pool.order_by("-priority", "-pk").values_list("priority", "pk")[:1]
            )
        except EmptyResultSet:  # the actor may not work this type anywhere
            continue
        top = _statement(sql, params, now)
        cacheable = cacheable and any(name == "now" for _i, name in top.slots)
        branches.append(_Branch(index, item_type, pool, now, top, guard=guard))
    tops = None
    if len(branches) > 1:
        # The best-of-each-type query checks the grants; the take after it does not (it
        # runs right after, as a take ran right after the grants were read per call).
        for branch in branches:
            branch.guard = None
        parts: list[str] = []
        union_params: list[Any] = []
        for branch in branches:
            alias = f"b{branch.index}"
            parts.append(f"SELECT {branch.index} AS k, {alias}.* FROM ({branch.top.sql}) {alias}")
            union_params.extend(branch.top.params)
        sql = " UNION ALL ".join(parts)
        if guard is not None:  # a one-time filter: false, and no branch runs
            sql = f"SELECT u.* FROM ({sql}) u WHERE {guard[0]}"
            union_params.extend(guard[1])
        tops = _statement(sql + " ORDER BY 2 DESC, 3 DESC, 1", union_params, now)
    return _Plan(branches, tops, cacheable, guard)


def _take_statement(branch: _Branch, floor: str) -> _Statement:
    """UPDATE taking the branch's best row above the floor ("" none, ">" or ">=")."""
    cached = branch.takes.get(floor)
    if cached is not None:
        return cached
    model = branch.item_type.model
    connection = connections[branch.pool.db]

    def quote(column: str | None) -> str:
        assert column is not None
        return connection.ops.quote_name(column)

    table = quote(model._meta.db_table)
    pk_column = quote(model._meta.pk.column)
    pool = branch.pool
    if floor:
        priority_column = quote(model._meta.get_field("priority").column)
        pool = pool.filter(
            RawSQL(
                f"({table}.{priority_column}, {table}.{pk_column}) {floor} (%s, %s)",
                (FLOOR_PRIORITY, FLOOR_PK),
                output_field=BooleanField(),
            )
        )
    inner, params = _compile(pool.order_by("-priority", "-pk").values_list("pk")[:1])
    if connection.features.has_select_for_update_skip_locked:
        lock = connection.ops.for_update_sql(skip_locked=True, of=(table,))
        inner = f"{inner} {lock}"
    fields = model._meta.concrete_fields
    returning = ", ".join(f"{table}.{quote(f.column)}" for f in fields)
    locked_by = quote(model._meta.get_field("locked_by").column)
    locked_until = quote(model._meta.get_field("locked_until").column)
    guard_sql, guard_params = branch.guard or ("TRUE", [])
    sql = (
        f"UPDATE {table} SET {locked_by} = %s, {locked_until} = %s "
        f"WHERE {table}.{pk_column} = ({inner}) AND {guard_sql} RETURNING {returning}"
    )
    params = (*params, *guard_params)
    statement = _statement(sql, ("__actor__", "__until__", *params), branch.now)
    statement.slots[:0] = [(0, "actor"), (1, "until")]
    branch.takes[floor] = statement
    return statement


# Per (model, database): the attnames and, per column, its expression and converters.
_readers: dict[tuple[type[WorkItem], str], tuple[list[str], list[tuple[Any, list[Any]]]]] = {}


def _instance(model: type[WorkItem], db: str, row: Sequence[Any]) -> WorkItem:
    """A model instance from a RETURNING row, through the fields' converters (JSON ...),
    which are looked up once per model."""
    connection = connections[db]
    reader = _readers.get((model, db))
    if reader is None:
        fields = model._meta.concrete_fields
        columns = []
        for f in fields:
            expression = f.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(expression) + f.get_db_converters(
                connection
            )
            columns.append((expression, converters))
        reader = _readers[(model, db)] = ([f.attname for f in fields], columns)
    attnames, columns = reader
    values = []
    for (expression, converters), value in zip(columns, row, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        values.append(value)
    return model.from_db(db, attnames, values)


# The callers' grants, kept beyond a request (per process, by user id) on PostgreSQL: each
# statement built from them carries ``access.grants_unchanged_sql`` (a one-time filter on
# the caller's permission rows), so when the grants changed the statement finds nothing,
# the grants are read again and the statements rebuilt (``hand_off``). A revoked access
# is seen by the very next hand-off; reading grants costs a query only then. A plan is
# looked up by the kept grants but built (on a miss) from the grants read now, and kept
# under their key with their guard (``_get_plan``).
_grants: OrderedDict[int, Grants] = OrderedDict()


def _keeps_grants(actor: Any) -> bool:
    return (
        connections[router.db_for_read(WorkItem)].vendor == "postgresql"
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def _caller_grants(actor: Any, fresh: bool = False) -> Grants:
    if not _keeps_grants(actor):
        return grants_for(actor)
    with _cache_lock:
        grants = None if fresh else _grants.get(actor.pk)
        if grants is not None:
            _grants.move_to_end(actor.pk)
            return grants
    grants = grants_for(actor)
    with _cache_lock:
        _grants[actor.pk] = grants
        while len(_grants) > CACHE_SIZE:
            _grants.popitem(last=False)
    return grants


def _key(
    actor: Any,
    grants: Grants,
    chosen: list[ItemType],
    today: dt.date,
    practice_id: int | None,
) -> tuple[str, tuple[Any, ...]]:
    """The grants' fingerprint and the cache key of a plan built from ``grants``."""
    fingerprint = grants_fingerprint(grants) if grants.user_id is not None else ""
    return fingerprint, (
        getattr(actor, "pk", None),
        today,
        practice_id,
        fingerprint,
        tuple((t.key, grants.practice_ids(t.permission)) for t in chosen),
    )


def _cached(key: tuple[Any, ...]) -> _Plan | None:
    with _cache_lock:
        plan = _cache.get(key)
        if plan is not None:
            _cache.move_to_end(key)
        return plan


def _get_plan(
    actor: Any,
    types: list[str] | None,
    today: dt.date,
    now: dt.datetime,
    practice_id: int | None,
) -> _Plan:
    """The plan for the caller's kept grants when one is cached (no query); else one built
    from the grants read now, cached under their key with their guard.

    A plan's SQL, key and guard come from one and the same ``Grants``: the SQL is compiled
    by ``visible_to`` -> ``grants_for`` (the request's grants, or one read here), so on a
    miss the kept grants, which may be out of date, are replaced by those before the key
    and guard are made. (Keyed by the kept grants A with SQL of the current B, a plan would
    pass its guard once the grants are back to A: A -> B -> A handed out B's items.)"""
    chosen = [t for t in registry.types() if types is None or t.key in types]
    key = _key(actor, _caller_grants(actor), chosen, today, practice_id)[1]
    plan = _cached(key)
    if plan is not None:
        return plan
    with grants_cache():
        # Inside a request: the request's grants (no query); else read once, and the same
        # object is what ``_plan``'s ``grants_for`` calls get from this grants cache.
        grants = _caller_grants(actor, fresh=True)
        fingerprint, key = _key(actor, grants, chosen, today, practice_id)
        plan = _cached(key)
        if plan is not None:
            return plan
        guard = None
        if _keeps_grants(actor) and grants.user_id is not None:
            guard = grants_unchanged_sql(actor, grants, router.db_for_read(WorkItem))
        plan = _plan(actor, chosen, today, now, practice_id, guard)
        # The SQL was compiled from these very grants (see the docstring).
        assert grants_for(actor) is grants, "work next: plan SQL and key from other grants"
    plan.fingerprint = fingerprint
    if plan.cacheable:
        with _cache_lock:
            _cache[key] = plan
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return plan


def _grants_changed(actor: Any, plan: _Plan) -> bool:
    """After a statement found nothing: whether the grants its plan was built with are
    out of date (read again; the next plan uses the new ones)."""
    if plan.guard is None:
        return False
    fresh = _caller_grants(actor, fresh=True)
    return grants_fingerprint(fresh) != plan.fingerprint


_release_sql: dict[tuple[type[WorkItem], str], _Statement] = {}


def give_back(item: WorkItem, actor: Any) -> None:
    """End the actor's hold of ``item`` (one UPDATE, prepared on PostgreSQL; nothing when
    somebody else holds it)."""
    model = type(item)
    db = router.db_for_write(model)
    statement = _release_sql.get((model, db))
    if statement is None:
        quote = connections[db].ops.quote_name
        opts = model._meta
        table, pk = quote(opts.db_table), quote(opts.pk.column or "id")
        locked_by = quote(opts.get_field("locked_by").column or "locked_by_id")
        locked_until = quote(opts.get_field("locked_until").column or "locked_until")
        sql = (
            f"UPDATE {table} SET {locked_by} = NULL, {locked_until} = NULL "
            f"WHERE {pk} = %s AND {locked_by} = %s"
        )
        statement = _Statement(sql, ["__pk__", "__actor__"], [(0, "pk"), (1, "actor")])
        _release_sql[(model, db)] = statement
    _run(db, statement, {"pk": item.pk, "actor": actor.pk}, rows=False)


def clear_cache() -> None:
    """Forget every compiled statement and every kept caller's grants (tests that change
    the registry or grants behind the services' back)."""
    with _cache_lock:
        _cache.clear()
        _grants.clear()


def hand_off(
    *,
    actor: Any,
    practice_id: int | None,
    types: list[str] | None,
    today: dt.date,
    now: dt.datetime,
    until: dt.datetime,
) -> WorkItem | None:
    """Hold the actor's best unheld item until ``until`` and return it (None: nothing left).
    See the module's docstring."""

    def _replan() -> tuple[_Plan, dict[int, _Branch]]:
        new = _get_plan(actor, types, today, now, practice_id)
        return new, {branch.index: branch for branch in new.branches}

    plan, by_index = _replan()
    if not plan.branches:
        return None
    actor_pk = getattr(actor, "pk", None)
    for _attempt in range(ATTEMPTS):
        if plan.tops is None:
            order: list[tuple[int, int, int]] = [(plan.branches[0].index, 0, 0)]
        else:
            rows = _run(plan.branches[0].pool.db, plan.tops, {"now": now})
            order = [(int(k), int(p), int(pk)) for k, p, pk in rows]
            if not order:
                if _grants_changed(actor, plan):
                    plan, by_index = _replan()
                    if plan.branches:
                        continue
                return None
        index = order[0][0]
        branch = by_index[index]
        floor, values = "", {"now": now, "actor": actor_pk, "until": until}
        if len(order) > 1:
            runner_up, floor_priority, floor_pk = order[1]
            floor = ">=" if index < runner_up else ">"
            values.update(floor_priority=floor_priority, floor_pk=floor_pk)
        statement = _take_statement(branch, floor)
        db = branch.pool.db
        taken = _run(db, statement, values)
        if taken:
            return _instance(branch.item_type.model, db, taken[0])
        if not floor:
            # Nothing of the last type left that nobody holds or is taking right now.
            if _grants_changed(actor, plan):
                plan, by_index = _replan()
                if plan.branches:
                    continue
            return None
        # Others took this type's rows above the runner-up meanwhile: look again.
    return None
