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
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

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
        self.slots: list[list[int]] = []
        for mark in marks:
            where = [i for i, p in enumerate(self.params) if _same(p, mark)]
            if not where:
                return
            self.slots.append(where)
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
        self.from_db: Callable[..., Any] = partial(self.model.from_db, fetch_mode=fetch_mode)
        self.populators = get_related_populators(klass_info, select, alias, fetch_mode)
        self.ok = True

    def run(self, alias: str, values: Sequence[Any]) -> list[Any]:
        params = list(self.params)
        for where, value in zip(self.slots, values, strict=True):
            for i in where:
                params[i] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: Any = cursor.fetchall()
        if self.converters:
            rows = self._converted(rows, connections[alias])
        objects = []
        for row in rows:
            obj = self.from_db(alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def _converted(self, rows: Any, connection: Any) -> list[list[Any]]:
        """``SQLCompiler.apply_converters`` with this call's connection (the compiler's is
        the one of the thread that compiled the statement)."""
        converters = list(self.converters.items())
        converted = []
        for row in map(list, rows):
            for pos, (convs, expression) in converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            converted.append(row)
        return converted


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
        params = list(self.params)
        for where, value in zip(self.slots or [], values, strict=True):
            for i in where:
                params[i] = value
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: Any = cursor.fetchall()
        if not self.converters:
            return [tuple(row[: self.width]) for row in rows]
        converted = []
        for raw in rows:
            row = list(raw[: self.width])
            for pos, (convs, expression) in self.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            converted.append(tuple(row))
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


class CompiledValues:
    """``build(*values)``'s rows (``build`` returns a ``values_list`` queryset of plain
    columns), as tuples, from its statement compiled once per database alias with
    ``build(*marks)`` and the columns' converters applied as the ORM applies them; the ORM
    when the statement is not of that shape (a mark the backend does not pass as given:
    ``any_of`` off PostgreSQL) or ``plain=True`` (the reference path for tests)."""

    def __init__(
        self,
        model: Callable[[], type[Model]],
        build: Callable[..., QuerySet[Any]],
        marks: Sequence[Any],
    ) -> None:
        self.model = model
        self.build = build
        self.marks = tuple(marks)
        self._statements: dict[tuple[type[Model], str], _ValuesStatement] = {}

    def __call__(self, *values: Any, plain: bool = False) -> list[tuple[Any, ...]]:
        if plain:
            return [tuple(row) for row in self.build(*values)]
        model = self.model()
        alias = router.db_for_read(model)
        key = (model, alias)
        statement = self._statements.get(key)
        if statement is None:
            queryset = self.build(*self.marks)
            statement = self._statements[key] = _ValuesStatement(queryset, self.marks, alias)
        if not statement.ok:
            return [tuple(row) for row in self.build(*values)]
        return statement.run(alias, values)

    def clear(self) -> None:
        """Forget the compiled statements (a test that changes how they compile)."""
        self._statements.clear()


class CompiledRead:
    """``build(*values)``'s model instances (``model()`` is its model), from its statement
    compiled once per database alias with ``build(*marks)``; ``build(*values)`` through
    the ORM when the statement is not of that shape (or ``plain=True``, the reference
    path for tests). A caller whose ``build`` closes over per-call facts (the user of a
    request) passes this call's own as ``build=``: the fallback then runs with them."""

    def __init__(
        self,
        model: Callable[[], type[Model]],
        build: Callable[..., QuerySet[Any]],
        marks: Sequence[Any],
    ) -> None:
        self.model = model
        self.build = build
        self.marks = tuple(marks)
        self._statements: dict[tuple[type[Model], str], _Statement] = {}

    def __call__(
        self,
        *values: Any,
        plain: bool = False,
        build: Callable[..., QuerySet[Any]] | None = None,
    ) -> list[Any]:
        fallback = build or self.build
        if plain:
            return list(fallback(*values))
        model = self.model()
        alias = router.db_for_read(model)
        key = (model, alias)
        statement = self._statements.get(key)
        if statement is None:
            queryset = self.build(*self.marks)
            statement = self._statements[key] = _Statement(queryset, self.marks, alias)
        if not statement.ok:
            return list(fallback(*values))
        return statement.run(alias, values)

    def clear(self) -> None:
        """Forget the compiled statements (a test that changes how they compile)."""
        self._statements.clear()
