"""The main navigation: one table of its entries, who sees each, and where it is current.

``base.html`` wrote the entries as about twenty ``{% if %}``/``{% url %}`` pairs, each
comparing ``request.resolver_match``: ~0.4 ms of CPU on every page (issue 10, speed). Here
each entry's link is reversed once per process (and URL prefix), and the HTML of a set of
entries shown with one current page is built once and kept; ``nav_html`` is what the
``{% block nav %}`` of ``base.html`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Entry:
    label: str
    # The URL's name and arguments, or a literal ``href``.
    url_name: str = ""
    args: tuple[str, ...] = ()
    href: str = ""
    # The context flag the entry needs (``practices.context_processors``); "" for everyone.
    flag: str = ""
    id: str = ""
    # Where the entry is the current page: URL names, or (URL name, queue slug).
    current: tuple[str | tuple[str, str], ...] = ()


ENTRIES = (
    Entry("KPIs", "kpi-dashboard", flag="can_view_kpis", id="nav-kpis",
          current=("kpi-dashboard", "kpi-console")),
    Entry("My day", "queue", ("my-day",), flag="can_work_claims", current=(("queue", "my-day"),)),
    Entry("Queues", "queue", ("payer-ar",), flag="can_work_claims"),
    Entry("Imports", "import-list", flag="can_work_claims"),
    Entry("Estimates", "estimate-list", flag="can_work_claims", id="nav-estimates",
          current=("estimate-list", "estimate-detail")),
    Entry("Remittances", "remittance-list", flag="can_post_payments",
          current=("remittance-list",)),
    Entry("Acknowledgements", "acknowledgement-list", flag="can_post_payments",
          current=("acknowledgement-list",)),
    Entry("Day sheet", "day-sheet", flag="can_verify_eligibility", id="nav-day-sheet",
          current=("day-sheet",)),
    Entry("271 responses", "eligibility-response-list", flag="can_verify_eligibility",
          id="nav-eligibility-responses", current=("eligibility-response-list",)),
    Entry("Prior auths", "authorization-list", flag="can_verify_eligibility",
          id="nav-authorizations", current=("authorization-list", "authorization-detail")),
    Entry("Recare", "recare-list", flag="can_work_recare", id="nav-recare",
          current=("recare-list", "recare-detail")),
    Entry("Patients", "patient-list", current=("patient-list",)),
    Entry("Balances", "patient-account-list", flag="can_work_patient_billing",
          id="nav-balances", current=("patient-account-list",)),
    Entry("Statement cycle", "statement-cycle", flag="can_manage_payers",
          id="nav-statement-cycle", current=("statement-cycle",)),
    Entry("Plans", "payment-plan-list", flag="can_work_patient_billing", id="nav-plans",
          current=("payment-plan-list", "payment-plan-detail")),
    Entry("Who has access", "access", flag="can_manage_access", current=("access",)),
    Entry("Audit trail", "audit", flag="can_manage_access", current=("audit",)),
    Entry("Access review", "access-review-list", flag="can_manage_access",
          id="nav-access-review", current=("access-review-list", "access-review")),
    Entry("Mini-audits", "mini-audit-list", flag="can_manage_payers", id="nav-mini-audits",
          current=("mini-audit-list", "mini-audit")),
    Entry("People", "people", flag="can_see_people", current=("people",)),
    Entry("Payers & providers", "payer-list", flag="can_manage_payers", id="nav-payers",
          current=("payer-list", "provider-list")),
    Entry("Who does what", "sop-contacts", flag="current_practice", id="nav-sops",
          current=("sop-list", "sop-contacts")),
    Entry("Billing functions", "billing-function-list", flag="can_manage_payers",
          id="nav-functions", current=("billing-function-list",)),
    Entry("Notifications", href="/notifications/", current=("notification-list",)),
)  # fmt: skip

# The flags the table reads (the context processor computes exactly these).
FLAGS = frozenset(entry.flag for entry in ENTRIES if entry.flag)


def _is_current(entry: Entry, url_name: str, slug: str) -> bool:
    return any(c == url_name or c == (url_name, slug) for c in entry.current)


@lru_cache(maxsize=64)
def _hrefs(prefix: str, urlconf: object = None) -> tuple[str, ...]:
    """Every entry's link under this URL prefix and URLconf (the cache's key)."""
    return tuple(entry.href or reverse(entry.url_name, args=entry.args) for entry in ENTRIES)


@lru_cache(maxsize=512)
def _html(
    shown: tuple[bool, ...], url_name: str, slug: str, prefix: str, urlconf: object = None
) -> SafeString:
    parts = []
    for entry, href, show in zip(ENTRIES, _hrefs(prefix, urlconf), shown, strict=True):
        if not show:
            continue
        active = " active" if _is_current(entry, url_name, slug) else ""
        id_ = f' id="{escape(entry.id)}"' if entry.id else ""
        parts.append(
            f'<li class="nav-item"><a class="nav-link{active}" href="{escape(href)}"{id_}>'
            f"{escape(entry.label)}</a></li>"
        )
    return mark_safe("\n        ".join(parts))  # noqa: S308  (every value escaped above)


def nav_html(flags: dict[str, object], url_name: str | None, slug: object) -> SafeString:
    """The ``<li>`` of every entry ``flags`` show, the current page's marked active."""
    shown = tuple(not entry.flag or bool(flags.get(entry.flag)) for entry in ENTRIES)
    slug = slug if isinstance(slug, str) else ""
    return _html(shown, url_name or "", slug, get_script_prefix(), get_urlconf())


def _forget(**_kwargs: object) -> None:
    """A test that changes a setting (ROOT_URLCONF, ...) gets links reversed afresh."""
    _hrefs.cache_clear()
    _html.cache_clear()


setting_changed.connect(_forget, dispatch_uid="practices.nav")
