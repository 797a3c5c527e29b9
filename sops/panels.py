"""The Escalations panel: on the claim page (registered with ``claims.panels``) and on the
page of every other work item that renders ``work.panels`` (a denial, an eligibility check,
a patient account): the item's escalations the user may read, with their answers, and the
form to raise one (for those who may work the item).

The claim page's panel is written in Python (issue 10, speed), character for character as
``sops/claim_panel.html`` renders it: through the template, with the request's context
processors, and its ORM query with every item type's branch of ``readable_condition``, a
panel that is only the raise form for most claims cost ~11 ms of the claim page's CPU
(now ~1 ms). Its ids are read by one plain statement holding the one branch of
``escalation_services.readable_condition`` a claim's escalation can meet (the other item
types' branches need another ``subject_type``); the rows, when there are some, through the
ORM. ``plain=True`` is the template and the full condition;
``tests/sops/test_claim_panel_fast.py`` renders both and compares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, router
from django.middleware.csrf import get_token
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.timezone import template_localtime

from billing_ops.access import grants_for, has_perm
from billing_ops.bulk import column_sql
from practices import permissions as perms
from sops.choices import BillingFunctionKind
from sops.escalation_models import Escalation
from sops.escalation_services import ESCALATION_KEY, readable
from work.registry import registry

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim

CLAIM_KEY = "claim"
CLAIM_PANEL = "sops/claim_panel.html"


def claim_escalations(request: HttpRequest, claim: Claim, *, plain: bool = False) -> str:
    """Escalations about this claim and the raise form (for those who work claims)."""
    # ``= ANY(array)`` in the fast read is PostgreSQL's: SQLite (`make run`) reads plainly.
    if plain or connections[router.db_for_read(Escalation)].vendor != "postgresql":
        return _claim_escalations_plain(request, claim)
    user = request.user
    grants = grants_for(user)
    rows = _claim_rows(user, grants, claim.pk)
    can_raise = grants.has(perms.WORK_CLAIMS, claim.practice_id)
    if not rows and not can_raise:
        return ""
    return _claim_panel(request, rows, claim.pk, can_raise)


def _claim_escalations_plain(request: HttpRequest, claim: Claim) -> str:
    rows = list(
        readable(request.user)
        .filter(subject_type=CLAIM_KEY, subject_id=claim.pk)
        .select_related("owner", "answered_by", "function")
        .order_by("-raised_at", "-pk")
    )
    can_raise = has_perm(request.user, perms.WORK_CLAIMS, claim.practice_id)
    if not rows and not can_raise:
        return ""
    context = {
        "rows": rows,
        "claim": claim,
        "can_raise": can_raise,
        "kinds": BillingFunctionKind.choices,
    }
    return render_to_string(CLAIM_PANEL, context, request=request)


def _claim_rows(user: Any, grants: Any, claim_id: int) -> list[Escalation]:
    """``readable(user).filter(subject_type="claim", subject_id=claim_id)``, its rows in its
    order: at the practices where the user may view, the ones they must answer or raised,
    and every one where they manage SOPs or work claims (``readable_condition``'s branch
    for claims). The ids are read by one plain statement (no ORM compile: most claims have
    none); the rows, when there are some, through the ORM."""
    viewable = grants.practice_ids(perms.VIEW_PRACTICE)
    if not viewable:
        return []
    readers = set(grants.practice_ids(perms.MANAGE_SOPS))
    for item_type in registry.types():
        if item_type.key == CLAIM_KEY and item_type.key != ESCALATION_KEY:
            readers |= grants.practice_ids(item_type.permission)
    meta = Escalation._meta
    alias = router.db_for_read(Escalation)
    quote = connections[alias].ops.quote_name

    def col(name: str) -> str:
        return column_sql(Escalation, name, using=alias)

    practice = col("practice")
    mine = f"{col('owner')} = %s OR {col('raised_by')} = %s"
    params: list[Any] = [CLAIM_KEY, claim_id, sorted(viewable), user.pk, user.pk]
    if readers:
        mine += f" OR {practice} = ANY(%s)"
        params.append(sorted(readers))
    sql = (
        f"SELECT {col('id')} FROM {quote(meta.db_table)} WHERE {col('subject_type')} = %s "
        f"AND {col('subject_id')} = %s AND {practice} = ANY(%s) AND ({mine}) "
        f"ORDER BY {col('raised_at')} DESC, {col('id')} DESC"
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    found = Escalation.objects.select_related("owner", "answered_by", "function").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _person(user: Any) -> str:
    """``{{ u.get_full_name|default:u.username }}`` (nothing for no user)."""
    if user is None:
        return ""
    return escape(user.get_full_name() or user.username)


def _shown_date(value: Any, fmt: str) -> str:
    """``{{ value|date:fmt }}``: local time for a datetime, as the template converts it."""
    return escape(date_filter(template_localtime(value, settings.USE_TZ), fmt))


def _claim_row(e: Escalation, detail_head: str, detail_tail: str) -> str:
    head = (
        f'<li class="list-group-item"><a href="{detail_head}{e.pk}{detail_tail}">E-{e.pk}</a> '
        f"{escape(e.question)}\n  "
    )
    if e.answer:
        body = (
            f'<div class="mt-1 escalation-answer"><strong>Answer</strong> '
            f"({_person(e.answered_by)}, {_shown_date(e.answered_at, 'm/d/Y')}): "
            f"{linebreaksbr(e.answer, autoescape=True)}</div>\n  "
        )
    else:
        body = f'<div class="text-body-secondary">{escape(e.get_status_display())} · '
        body += _person(e.owner)
        if e.deadline:
            body += f" · by {_shown_date(e.deadline, 'm/d')}"
        if e.patient_impact:
            body += f" · patient impact: {escape(e.patient_impact)}"
        if e.is_routine:
            body += " · routine"
        body += "</div>"
    return f"{head}{body}</li>\n"


_MARK = 8_675_309_001


def _raise_form(request: HttpRequest, claim_id: int) -> str:
    options = "".join(
        f'<option value="{escape(value)}"'
        f"{' selected' if value == BillingFunctionKind.CLAIM_FOLLOW_UP else ''}>"
        f"{escape(label)}</option>"
        for value, label in BillingFunctionKind.choices
    )
    token = escape(get_token(request))
    return (
        '<div class="card-body">\n'
        f'<form method="post" action="{reverse("escalation-raise")}" class="row g-1 small" '
        f'id="escalation-form"><input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
        '  <input type="hidden" name="subject_type" value="claim"><input type="hidden" '
        f'name="subject_id" value="{claim_id}">\n'
        '  <div class="col-12"><label class="form-label mb-0" for="esc-question">One question '
        'for the practice</label><input name="question" id="esc-question" maxlength="200" '
        'class="form-control form-control-sm" required></div>\n'
        '  <div class="col-6"><label class="form-label mb-0" for="esc-function">Function</label>'
        '<select name="function_kind" id="esc-function" class="form-select form-select-sm">'
        f"{options}</select></div>\n"
        '  <div class="col-6"><label class="form-label mb-0" for="esc-deadline">Answer by'
        '</label><input type="date" name="deadline" id="esc-deadline" '
        'class="form-control form-control-sm"></div>\n'
        '  <div class="col-12"><label class="form-label mb-0" for="esc-impact">or patient '
        'impact</label><input name="patient_impact" id="esc-impact" maxlength="300" '
        'class="form-control form-control-sm"></div>\n'
        '  <div class="col-12 form-check ms-1"><input class="form-check-input" type="checkbox" '
        'name="is_routine" id="esc-routine"><label class="form-check-label" for="esc-routine">'
        "Routine question (no deadline)</label></div>\n"
        '  <div class="col-12"><button class="btn btn-sm btn-outline-primary" type="submit">'
        "Escalate</button></div>\n"
        "</form></div>"
    )


def _claim_panel(
    request: HttpRequest, rows: list[Escalation], claim_id: int, can_raise: bool
) -> str:
    """``sops/claim_panel.html``, written in Python."""
    detail_head, _mark, detail_tail = reverse("escalation-detail", args=[_MARK]).partition(
        str(_MARK)
    )
    items = "".join(_claim_row(e, detail_head, detail_tail) for e in rows)
    form = _raise_form(request, claim_id) if can_raise else ""
    return (
        '<div class="card shadow-sm mb-3" id="escalations-panel"><div class="card-header">'
        "Escalations</div>\n"
        '<ul class="list-group list-group-flush small">\n'
        f"{items}\n</ul>\n{form}\n</div>\n"
    )


def item_escalations(request: HttpRequest, item_type_key: str, item: Any) -> str:
    """Escalations about any other work item (registered with ``work.panels``)."""
    try:
        item_type = registry.type(item_type_key)
    except KeyError:
        return ""
    if item_type.key == ESCALATION_KEY or not isinstance(item, item_type.model):
        return ""
    rows = list(
        readable(request.user)
        .filter(subject_type=item_type.key, subject_id=item.pk)
        .select_related("owner", "answered_by", "function")
        .order_by("-raised_at", "-pk")
    )
    can_raise = has_perm(request.user, item_type.permission, item.practice_id)
    if not rows and not can_raise:
        return ""
    context = {
        "rows": rows,
        "subject_type": item_type.key,
        "subject_id": item.pk,
        "default_kind": item_type.billing_function or BillingFunctionKind.CLAIM_FOLLOW_UP,
        "can_raise": can_raise,
        "kinds": BillingFunctionKind.choices,
    }
    return render_to_string("sops/item_panel.html", context, request=request)
