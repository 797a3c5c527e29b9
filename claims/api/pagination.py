"""Cursor pages of the claims API: the claim list and a claim's timeline.

DRF's ``CursorPagination`` keys its cursor on the first ordering field only and steps over
ties with an offset it cuts off at 1,000, so more than 1,000 claims of equal priority
answered the same page for ever. ``KeysetPagination`` keys the cursor on every ordering
field (the last one unique), so ties cost nothing and every row comes exactly once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import BooleanField, Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from claims.api import list_reads

INVALID_CURSOR = "Invalid cursor."


class KeysetPagination(CursorPagination):
    """Keyset pages: the cursor holds the last row's value of every ordering field.

    ``ordering`` must end in a unique field and go one way (all descending or all
    ascending): the page condition is one row-value comparison, ``(priority, id) < (%s, %s)``,
    so PostgreSQL starts its index scan at the cursor. A cursor or page size that does not
    parse answers 400, never 500.
    """

    ordering: tuple[str, ...] = ("-id",)
    max_page_size = 200

    # -- parameters -------------------------------------------------------------------

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param or "")
        if raw is None or not self.page_size_query_param:
            return int(self.page_size)
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A positive whole number."]})
        return min(int(raw), self.max_page_size or int(raw))

    def _fields(self, model: type[Model]) -> list[Field[Any, Any]]:
        meta = model._meta
        names = [name.lstrip("-") for name in self.ordering]
        return [meta.pk if name == "pk" else meta.get_field(name) for name in names]  # type: ignore[misc]

    def decode_cursor(self, request: Request) -> Any:
        """``(reverse, values)`` from the cursor, or None without one; 400 if it is bad."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            reverse, raw_values = data["r"], data["p"]
            if not isinstance(reverse, bool) or not isinstance(raw_values, list):
                raise ValueError(encoded)
            if len(raw_values) != len(self.ordering):
                raise ValueError(encoded)
            pairs = zip(self._model_fields, raw_values, strict=True)
            values = [self._parse(field, raw) for field, raw in pairs]
        except (ValueError, TypeError, KeyError, OverflowError, binascii.Error):
            raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from None
        return reverse, values

    @staticmethod
    def _parse(field: Field[Any, Any], raw: Any) -> Any:
        """A cursor value as the database will take it; ValueError if it cannot be one."""
        if not isinstance(raw, str) or "\x00" in raw or len(raw) > 64:
            raise ValueError(raw)
        try:
            value = field.to_python(raw)
            # Integer fields check the column's range here: a 30-digit id is refused, not
            # sent to SQLite (OverflowError) or compared as numeric by PostgreSQL.
            field.run_validators(value)
        except DjangoValidationError:
            raise ValueError(raw) from None
        if value is None or (isinstance(value, dt.datetime) and timezone.is_naive(value)):
            raise ValueError(raw)
        return field.get_db_prep_value(value, connection)

    def encode_cursor(self, cursor: Any) -> str:
        reverse, instance = cursor
        values = [f.value_to_string(instance) for f in self._model_fields]
        raw = json.dumps({"r": reverse, "p": values}, separators=(",", ":")).encode()
        encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return str(replace_query_param(self.base_url, self.cursor_query_param, encoded))

    # -- the page ---------------------------------------------------------------------

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        return self.paginate(lambda: queryset, queryset.model, request)

    def paginate(
        self,
        base: Callable[[], QuerySet[Any]],
        model: type[Model],
        request: Request,
        *,
        as_values: bool = False,
        kept: tuple[Any, ...] | None = None,
    ) -> list[Any]:
        """The page of ``base()``'s rows the request asks for: model instances, or with
        ``as_values`` the claims' ``ClaimValues`` (``claims.api.list_reads``). With ``kept``
        too (the key of ``base()``'s SQL, ``list_reads.shape``) they are read by the
        statement kept for that key and this page's shape, run with the cursor's values;
        ``base`` is then called only to compile it (or when the statement falls back to
        the ORM)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        descending = {name.startswith("-") for name in self.ordering}
        assert len(descending) == 1, "keyset ordering goes one way"
        self._model_fields = self._fields(model)
        decoded = self.decode_cursor(request)
        reverse, values = decoded if decoded is not None else (False, None)

        # Walking back (a "previous" cursor) reads the reverse order from the cursor on.
        descend = descending.pop() != reverse
        after = values is not None

        def build(*given: Any) -> QuerySet[Any]:
            return self._page_query(base(), descend, list(given) if after else None)

        rows: list[Any]
        if as_values:
            key = (*kept, self.page_size, descend, after) if kept is not None else None
            marks = list_reads.marks_for(values) if key is not None else None
            rows = list_reads.page_rows(key, build, marks, values or ())
        else:
            rows = list(build(*(values or ())))
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = values is not None, more
        else:
            self.has_next, self.has_previous = more, values is not None
        return self.page

    def _page_query(
        self, queryset: QuerySet[Any], descend: bool, values: list[Any] | None
    ) -> QuerySet[Any]:
        """``queryset``'s rows after the cursor's ``values`` (all from the top without),
        in page order, one more than the page to tell whether another follows."""
        order = [f"{'-' if descend else ''}{name.lstrip('-')}" for name in self.ordering]
        if values is not None:
            table = connection.ops.quote_name(queryset.model._meta.db_table)
            columns = ", ".join(
                f"{table}.{connection.ops.quote_name(f.column)}" for f in self._model_fields
            )
            marks = ", ".join(["%s"] * len(values))
            op = "<" if descend else ">"
            queryset = queryset.filter(
                RawSQL(f"({columns}) {op} ({marks})", values, output_field=BooleanField())
            )
        return queryset.order_by(*order)[: self.page_size + 1]

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.page):
            return None
        return self.encode_cursor((False, self.page[-1]))

    def get_previous_link(self) -> str | None:
        if not (self.has_previous and self.page):
            return None
        return self.encode_cursor((True, self.page[0]))

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )


class ClaimCursorPagination(KeysetPagination):
    """Keyset pages in queue order: deep pages cost the same as the first."""

    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ActivityPagination(KeysetPagination):
    """A claim's timeline, newest first (entries of the same instant by id)."""

    ordering = ("-at", "-id")
    page_size = 100
