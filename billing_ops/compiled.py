"""Per-request reads compiled once per process (issue 10, speed).

Every request reads its session row and its user (with the vendor-staff row) through the
ORM, whose compile of these one-row statements cost several times the CPU of running
them (user 1.8 ms against 0.4 ms, session 1.2 ms against 0.3 ms). ``CompiledRead`` keeps
the statement the ORM compiles for a queryset built from marks (values that stand for the
call's own), and the compiler's row layout; each call runs that SQL with its values in the
marks' places and builds the model instances as Django's ``ModelIterable`` does (the same
``from_db``, converters and ``select_related`` populators). Nothing is cached but the SQL
text: every call reads the database, so a disabled user, a changed password or an expired
session is seen by the very next request.

When the compiled statement does not carry each mark as a parameter exactly as given (a
backend that adapts the value, another database's SQL), the ORM runs the queryset instead.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.signals import post_init, pre_init

# Marks: values no caller passes (checked by type and value, so 1 never matches True).
INT_MARK = -7_340_021
STR_MARK = "\x00billing-ops-mark\x00"
DATE_MARK = dt.date(1901, 2, 3)
DATETIME_MARK = dt.datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=dt.UTC)


def _same(param: Any, mark: Any) -> bool:
    return type(param) is type(mark) and param == mark


class _Statement:
    """One compiled statement: its SQL, its parameters with each mark's positions, and
    what turns a row into model instances."""

    def __init__(self, queryset: QuerySet[Any], marks: Sequence[Any], alias: str) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.ok = False
        self.sql = sql
        self.params = list(params)
        slots = _slots(self.params, marks)
        if slots is None:
            return
        self.slots = slots
        if compiler.has_extra_select or compiler.annotation_col_map:
            return
        klass_info = compiler.klass_info
        if not klass_info:
            return
        select = compiler.select
        fields = [s[0] for s in select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        self.model: type[Model] = klass_info["model"]
        select_fields = klass_info["select_fields"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        fetch_mode = queryset._fetch_mode  # type: ignore[attr-defined]
        if fetch_mode.track_peers or queryset._known_related_objects:  # type: ignore[attr-defined]
            return
        if queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
            return  # rows alone would lack what the queryset prefetches
        self.from_db: Callable[..., Any] = fast_from_db(
            self.model, self.init_list, fetch_mode
        ) or partial(self.model.from_db, fetch_mode=fetch_mode)
        self.populators = get_related_populators(klass_info, select, alias, fetch_mode)
        _fast_populators(self.populators, fetch_mode)
        self.ok = True

    def run(self, alias: str, values: Sequence[Any]) -> list[Any]:
        rows = _fetch(alias, self.sql, self.params, self.slots, values)
        if self.converters:
            rows = _converted(rows, list(self.converters.items()), connections[alias])
        objects = []
        for row in rows:
            obj = self.from_db(alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects


class _ValuesStatement:
    """One compiled ``values_list`` statement: its SQL, its parameters with each mark's
    positions, and the converters of its columns."""

    def __init__(self, queryset: QuerySet[Any], marks: Sequence[Any], alias: str) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        self.ok = False
        self.sql = sql
        self.params = list(params)
        self.slots = _slots(self.params, marks)
        if self.slots is None:
            return
        # The row as ``SQLCompiler.results_iter`` gives it (``ValuesListIterable``).
        self.width = compiler.col_count
        fields = [s[0] for s in compiler.select[0 : self.width]]
        self.converters = list(compiler.get_converters(fields).items())
        self.ok = True

    def run(self, alias: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        fetched = _fetch(alias, self.sql, self.params, self.slots, values)
        rows = [row[: self.width] for row in fetched]
        if self.converters:
            rows = _converted(rows, self.converters, connections[alias])
        return [tuple(row) for row in rows]


# Descriptors whose ``__set__`` only stores the value for a new instance: a foreign key's
# ``*_id`` (it also drops a cached related object, which a new instance has none of).
_PLAIN_SETTERS = (ForeignKeyDeferredAttribute,)


def fast_from_db(
    model: type[Model], init_list: list[str], fetch_mode: Any
) -> Callable[[str, list[str], Sequence[Any]], Model] | None:
    """``model.from_db`` for rows of the concrete fields in ``init_list`` (all of them, or
    some in the model's order: the others deferred), without ``Model.__init__``: the
    instance's ``__dict__`` filled as ``__init__``'s ``setattr`` calls fill it, which skip
    a deferred field (5.4 µs less a claim, 50 claims and their patients, payers and owners
    a queue page; issue 10). None (Django's ``from_db``) when that would differ: a model
    with its own ``__init__`` or ``from_db``, ``pre_init``/``post_init`` receivers, a
    field whose descriptor does more on set than store the value."""
    every = [f.attname for f in model._meta.concrete_fields]
    loaded = set(init_list)
    names = [name for name in every if name in loaded]
    if init_list != names or model.__init__ is not Model.__init__:
        return None
    if model.from_db.__func__ is not Model.from_db.__func__:  # type: ignore[attr-defined]
        return None
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return None
    for name in every:
        setter = getattr(type(model.__dict__.get(name)), "__set__", None)
        if setter is not None and not isinstance(model.__dict__[name], _PLAIN_SETTERS):
            return None
    track = fetch_mode is not None
    new = model.__new__

    def from_db(db: str, _names: list[str], values: Sequence[Any]) -> Model:
        obj = new(model)
        state = ModelState()
        state.adding = False
        state.db = db
        if track:
            state.fetch_mode = fetch_mode
        attrs = obj.__dict__
        attrs["_state"] = state
        attrs.update(zip(names, values, strict=True))
        return obj

    return from_db


def _fast_populators(populators: list[Any], fetch_mode: Any) -> None:
    """``select_related``'s populators (and theirs) build their rows' instances by
    ``fast_from_db`` where it applies."""
    for populator in populators:
        fast = fast_from_db(populator.model_cls, populator.init_list, fetch_mode)
        if fast is not None:
            populator.from_db = fast
        _fast_populators(populator.related_populators, fetch_mode)


def _fetch(alias: str, sql: str, params: list[Any], slots: Any, values: Sequence[Any]) -> list[Any]:
    """The statement's rows, run with ``values`` in their marks' places."""
    params = list(params)
    for where, value in zip(slots, values, strict=True):
        for i in where:
            params[i] = value
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[Any] = cursor.fetchall()
    return rows


def _converted(rows: Any, converters: list[Any], connection: Any) -> list[list[Any]]:
    """``SQLCompiler.apply_converters`` with this call's connection (the compiler's is the
    one of the thread that compiled the statement)."""
    converted = []
    for row in map(list, rows):
        for pos, (convs, expression) in converters:
            value = row[pos]
            for converter in convs:
                value = converter(value, expression, connection)
            row[pos] = value
        converted.append(row)
    return converted


def _slots(params: list[Any], marks: Sequence[Any]) -> list[list[int]] | None:
    """Each mark's positions among ``params``; None when a mark is not a parameter as given."""
    slots = []
    for mark in marks:
        where = [i for i, p in enumerate(params) if _same(p, mark)]
        if not where:
            return None
        slots.append(where)
    return slots


def read_once(queryset: QuerySet[Any]) -> list[Any]:
    """``list(queryset)``, its instances built as a kept statement builds them
    (``fast_from_db``, also for deferred fields) with nothing kept: for a read whose SQL
    changes with every request (a filtered queue page). The ORM's iterator when the
    queryset is not of a shape ``CompiledRead`` reads (annotations, prefetches)."""
    if queryset._iterable_class is not ModelIterable:
        return list(queryset)
    alias = queryset.db
    try:
        statement = _Statement(queryset, (), alias)
    except EmptyResultSet:  # .none(), an empty IN: what the ORM answers without a query
        return []
    if not statement.ok:
        return list(queryset)
    rows: list[Any] = statement.run(alias, ())
    return rows


class _Compiled[R]:
    """What ``CompiledValues`` and ``CompiledRead`` share: ``build(*values)``'s rows from
    its statement compiled once per database alias with ``build(*marks)``, and the ORM when
    the statement is not of the expected shape (or ``plain=True``, the reference path for
    tests). A caller whose ``build`` closes over per-call facts (the user of a request)
    passes this call's own as ``build=`` and None here: the statement is compiled and the
    ORM path run with the call's, and a kept read holds no request (a lazy user holds its
    request) past the call."""

    _statement: Callable[[QuerySet[Any], Sequence[Any], str], Any]

    def __init__(
        self,
        model: Callable[[], type[Model]],
        build: Callable[..., QuerySet[Any]] | None,
        marks: Sequence[Any],
    ) -> None:
        self.model = model
        self.build = build
        self.marks = tuple(marks)
        self._statements: dict[tuple[type[Model], str], Any] = {}

    def _rows(self, queryset: QuerySet[Any]) -> list[R]:
        raise NotImplementedError

    def __call__(
        self,
        *values: Any,
        plain: bool = False,
        build: Callable[..., QuerySet[Any]] | None = None,
    ) -> list[R]:
        fallback = build or self.build
        if fallback is None:
            raise TypeError("Pass build=: this read keeps none of its own.")
        if plain:
            return self._rows(fallback(*values))
        model = self.model()
        alias = router.db_for_read(model)
        key = (model, alias)
        statement = self._statements.get(key)
        if statement is None:
            queryset = fallback(*self.marks)
            statement = self._statements[key] = self._statement(queryset, self.marks, alias)
        if not statement.ok:
            return self._rows(fallback(*values))
        rows: list[R] = statement.run(alias, values)
        return rows

    def clear(self) -> None:
        """Forget the compiled statements (a test that changes how they compile)."""
        self._statements.clear()


class CompiledValues(_Compiled[tuple[Any, ...]]):
    """``build(*values)``'s rows (``build`` returns a ``values_list`` queryset of plain
    columns), as tuples, with the columns' converters applied as the ORM applies them; the
    ORM when a mark is not passed as given (``any_of`` off PostgreSQL)."""

    _statement = _ValuesStatement

    def _rows(self, queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in queryset]


class CompiledRead(_Compiled[Any]):
    """``build(*values)``'s model instances (``model()`` is its model)."""

    _statement = _Statement

    def _rows(self, queryset: QuerySet[Any]) -> list[Any]:
        return list(queryset)


# --- kept statements by key (queue pages, My day, the claims API list) ------------------


def kept[V](cache: OrderedDict[Any, V], key: Any, make: Callable[[], V], size: int) -> V:
    """The value kept under ``key`` (marked recently used), or ``make()``'s, kept; past
    ``size`` entries the least recently used goes. Another thread (runserver's) may evict
    or empty meanwhile: tolerated."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = make()
        if len(cache) > size:
            with suppress(KeyError):
                cache.popitem(last=False)
    else:
        with suppress(KeyError):
            cache.move_to_end(key)
    return value
