"""What a web process does once its application is loaded (``billing_ops.wsgi``).

``settle()`` imports every view module (the URLconf) and then moves every object alive at
that point out of the cyclic garbage collector's generations (``gc.freeze``): Django, the
apps, their modules and URL patterns, about 160,000 objects that live as long as the
process. A full collection walked them all: ~50 ms of one request in about a hundred at
dataset L, ~0.5 ms a request on average (issue 10). Frozen, they are never walked, never
collected (none of them is garbage), and a forked worker does not copy their pages by
touching their collector headers.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def settle() -> int:
    """Load the URLconf, collect, freeze; the number of objects now frozen."""
    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
