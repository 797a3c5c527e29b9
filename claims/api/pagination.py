"""Cursor pages of the claims API: the claim list and a claim's timeline."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ClaimCursorPagination(CursorPagination):
    """Keyset pages in queue order: deep pages cost the same as the first."""

    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ActivityPagination(CursorPagination):
    ordering = ("-at", "-id")
    page_size = 100
