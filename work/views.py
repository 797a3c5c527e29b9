"""Work pages over every registered item type: My day, each queue, work next, bulk, owners."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import setting_changed
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from billing_ops.access import acting_user, holders_among, holders_of_any, request_access
from billing_ops.compiled import DATE_MARK, INT_MARK, CompiledRead
from billing_ops.pages import scoped_page
from practices import phi_log
from practices.models import Assignment
from work import fragments, queue_reads, selectors, services
from work.choices import NotificationKind
from work.models import Notification, next_action_choices
from work.registry import Queue, registry
from work.widgets import use_fast_widgets

PAGE_SIZE = 50
# The keyset pages' own parameters: the cursor and the cursors before it.
PAGING_PARAMETERS = frozenset({"after", "trail"})
# "All N matching the filter" changes at most this many items at once.
BULK_ALL_LIMIT = 5000
User = get_user_model()
MY_DAY = "my-day"
# Seeing the by-owner workload is a manager's or vendor lead's view.
VIEW_KPIS = "view_kpis"
MANAGE_ACCESS = "manage_access"
APPROVE_ADJUSTMENTS = "approve_adjustments"


def _work_permissions() -> set[str]:
    return {item_type.permission for item_type in registry.types()}


def _may_work_here(request: HttpRequest) -> Any:
    """The current practice if the user works any item type there; else 404."""
    access = request_access(request)
    practice = access.practice
    if practice is None or not any(access.has(p) for p in _work_permissions()):
        raise Http404("Not found.")
    return practice


# What the owner lists show (a name) and nothing more: no password hash, no e-mail.
OWNER_FIELDS = ("id", "username", "first_name", "last_name")


def _holders_of_any(practice_id: int, permissions: set[str]) -> Any:
    """People who may work any of ``permissions`` at the practice (a lazy queryset)."""
    anyone = User.objects.none()
    for permission in sorted(permissions):
        anyone = anyone | holders_among(permission, [practice_id])
    return anyone.distinct().only(*OWNER_FIELDS).order_by("username")


def _owners_query(codenames: list[str]) -> Any:
    def build(practice_id: int, day: dt.date) -> Any:
        holders = holders_of_any(codenames, [practice_id], day)
        return holders.distinct().only(*OWNER_FIELDS).order_by("username")

    return build


# The owner lists' statements, compiled once per set of permissions (issue 10, speed):
# the ORM built one OR'd subquery a permission and compiled them on every page (5 ms of
# CPU on a queue page, ~30 ms for all nine permissions).
_owner_reads: dict[frozenset[str], CompiledRead] = {}


def _owners(practice_id: int, permissions: set[str], *, plain: bool = False) -> list[Any]:
    """The people who may work any of ``permissions`` at the practice, by username (the
    bulk bar's and the owner filter's list); ``plain``: through ``_holders_of_any``."""
    if plain:
        return list(_holders_of_any(practice_id, permissions))
    if not permissions:
        return []
    key = frozenset(permissions)
    read = _owner_reads.get(key)
    if read is None:
        read = _owner_reads[key] = CompiledRead(
            get_user_model, _owners_query(sorted(key)), (INT_MARK, DATE_MARK)
        )
    return read(practice_id, timezone.localdate())


def _offer_owners(filters: Any, owners: list[Any]) -> None:
    """The filter's owner choices are the bulk list: one query for both."""
    if filters is not None and "owner" in filters.form.fields:
        choices = [("", "---------"), *((user.pk, str(user)) for user in owners)]
        filters.form.fields["owner"].widget.choices = choices


def _listed_choices(filters: Any, user: Any = None, today: dt.date | None = None) -> None:
    """The filter panel's model choices (practice, payer, ...) read with one plain query
    each: a model choice field iterates its queryset with ``.iterator()``, on PostgreSQL a
    server-side cursor (DECLARE, FETCH, CLOSE) for a list of a few rows. The options are
    the ones the field's own iterator gives (empty, null, then each row), in its order.
    With ``user`` and ``today``, a filterset whose choices depend only on the user's
    practices (``choices_permission``) has them read by statements kept per user, day
    and those practices (``work.queue_reads``; every call reads the rows afresh)."""
    if filters is None:
        return
    kept = queue_reads.choices_key(filters, user, today) if today is not None else None
    for name, field in filters.form.fields.items():
        if not isinstance(getattr(field.widget, "choices", None), ModelChoiceIterator):
            continue
        rows = (
            field.queryset
            if kept is None
            else queue_reads.choice_rows((*kept, name), field.queryset)
        )
        head: list[tuple[Any, Any]] = []
        if field.empty_label is not None:
            head.append(("", field.empty_label))
        if getattr(field, "null_label", None) is not None:
            head.append((field.null_value, field.null_label))
        field.widget.choices = [
            *head,
            *((field.prepare_value(obj), field.label_from_instance(obj)) for obj in rows),
        ]


def _style(filters: Any) -> None:
    """Bootstrap's small controls for the filter panel's widgets."""
    if filters is None:
        return
    for field in filters.form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs["class"] = f"{css} {css}-sm"


# The days ahead in which an ending vendor assignment needs a manager's look.
ACCESS_ENDING_DAYS = 14


def needs_you(request: HttpRequest, practice: Any, today: Any) -> dict[str, Any] | None:
    """For managers and vendor leads, on My day and on the KPI dashboard (their landing
    page): what waits for them at the practice besides their own items."""
    access = request_access(request)
    manages = access.has(MANAGE_ACCESS)
    if not (manages or access.has(VIEW_KPIS)):
        return None
    escalations = Notification.objects.filter(
        user=acting_user(request),
        practice=practice,
        kind=NotificationKind.ESCALATION,
        read_at__isnull=True,
    ).count()
    ending = None
    if manages:
        ending = (
            Assignment.objects.visible_to(request.user, MANAGE_ACCESS)
            .filter(
                engagement__practice=practice,
                revoked_at__isnull=True,
                ends_on__gte=today,
                ends_on__lte=today + dt.timedelta(days=ACCESS_ENDING_DAYS),
            )
            .count()
        )
    approvals = None
    if access.has(APPROVE_ADJUSTMENTS):
        # Items only an approver can close (adjustment requests above the threshold),
        # whatever app registered them.
        approvals = sum(
            item_type.model._default_manager.filter(
                item_type.open_condition, practice=practice
            ).count()
            for item_type in registry.types()
            if item_type.permission == APPROVE_ADJUSTMENTS
        )
    return {
        "escalations": escalations,
        "access_ending": ending,
        "approvals": approvals,
        "days": ACCESS_ENDING_DAYS,
    }


def _visible_queues(request: HttpRequest) -> list[Queue]:
    """The queues whose item type the user works at the current practice (one ``has`` per
    permission, not per queue: most queues share one)."""
    access = request_access(request)
    held: dict[str, bool] = {}
    shown = []
    for q in registry.queues():
        permission = registry.type(q.item_type).permission
        if permission not in held:
            held[permission] = access.has(permission)
        if held[permission]:
            shown.append(q)
    return shown


@lru_cache(maxsize=64)
def _queue_hrefs(prefix: str, urlconf: object = None) -> dict[str, str]:
    """Every page's link (My day and each queue) under this URL prefix and URLconf (the
    cache's key): the page's tabs, reversed once per process instead of once per tab and
    page; reversed afresh after a test changes a setting."""
    return {slug: reverse("queue", args=[slug]) for slug in sorted(queue_slugs())}


def _forget_hrefs(**_kwargs: object) -> None:
    _queue_hrefs.cache_clear()


setting_changed.connect(_forget_hrefs, dispatch_uid="work.views._queue_hrefs")


def _queue_links(queues: list[Queue]) -> list[tuple[Queue, str]]:
    """The tabs of the queue pages: each visible queue and its link."""
    hrefs = _queue_hrefs(get_script_prefix(), get_urlconf())
    return [(q, hrefs.get(q.slug) or reverse("queue", args=[q.slug])) for q in queues]


def _next_actions(type_keys: list[str]) -> list[tuple[str, str]]:
    """The next actions the bulk form offers: every one of the listed types'."""
    seen: dict[str, str] = {}
    for key in type_keys:
        for value, label in next_action_choices(registry.type(key).model).items():
            seen.setdefault(value, str(label))
    return list(seen.items())


@require_GET
@scoped_page("view_practice", current_practice=False)
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """My day (every type) or one registered queue of the current practice (each checks the
    permission its item types need)."""
    access = request_access(request)
    today = timezone.localdate()
    queues = _visible_queues(request)
    context: dict[str, Any] = {
        "queues": queues,
        "queue_links": _queue_links(queues),
        "today": today,
    }
    if slug == MY_DAY:
        practice = _may_work_here(request)
        # "All my practices": one list over every practice the user works (vendor leads).
        everywhere = request.GET.get("practices") == "all" and len(access.practices) > 1
        practice_id = None if everywhere else practice.pk
        types = [
            t.key
            for t in registry.types()
            if (
                access.grants.practice_ids(t.permission) if everywhere else access.has(t.permission)
            )
        ]
        page = selectors.my_day_page(
            request.user, practice_id, request.GET.get("after"), PAGE_SIZE, today, types
        )
        counts = selectors.my_day_counts(request.user, practice_id, today)
        if everywhere:
            names = {p.pk: p.name for p in access.practices}
            for row in page.rows:
                row.item.practice_label = names.get(row.item.practice_id, "")  # type: ignore[attr-defined]
        context.update(
            needs_you=needs_you(request, practice, today),
            everywhere=everywhere,
            many_practices=len(access.practices) > 1,
            queue={
                "slug": MY_DAY,
                "title": "My day",
                "description": "Everything of mine due today or overdue.",
            },
            page=page,
            counts=counts,
            total=counts["total"],
            filters=None,
            has_filters=False,
            table_template="work/item_table.html",
            sorts={},
            bulk_owners=_owners(practice.pk, {registry.type(k).permission for k in types}),
            next_actions=_next_actions(types),
        )
    else:
        current = registry.queue(slug)
        if current is None:
            raise Http404("No such queue.")
        item_type = registry.type(current.item_type)
        practice = access.practice_or_404(item_type.permission)

        def base_rows() -> QuerySet[Any]:
            return selectors.queue_queryset(current, request.user, today).filter(
                practice_id=practice.pk
            )

        # The queue's rows are built by the ORM only when they are read through it: a kept
        # page (an unfiltered one, ``work.queue_reads``) builds them once, to compile.
        items: selectors.Rows = base_rows
        filters = None
        # A page opened without filters or sort (the first page, or the next ones through
        # the cursor) shows its filter panel collapsed: the panel is read when it is opened
        # (``queue_filters``), not built on every such page.
        if current.filterset is not None and request.GET.keys() - PAGING_PARAMETERS:
            filters = current.filterset(request.GET, queryset=base_rows(), user=request.user)
            items = filters.qs if filters.is_valid() else filters.queryset
        # An unfiltered page's reads are kept per shape (work.queue_reads); None: the ORM.
        shape = queue_reads.shape(
            current, request.user, practice.pk, today, is_filtered=queue_reads.filtered(filters)
        )
        if shape is None and not isinstance(items, QuerySet):
            items = items()  # read through the ORM: built once for the page and its count
        owners = _owners(practice.pk, {item_type.permission})
        _ready_panel(filters, owners, request.user, today)
        sort = request.GET.get("sort", "priority")
        page = selectors.keyset_page(
            current, items, sort, request.GET.get("after"), PAGE_SIZE, shape=shape
        )
        context.update(
            queue=current,
            page=page,
            counts=None,
            total=selectors.capped_count(items, shape=shape),
            filters=filters,
            has_filters=current.filterset is not None,
            table_template=current.table_template,
            sorts={key: label for key, (_f, _d, label) in current.sorts.items()},
            bulk_owners=owners,
            next_actions=_next_actions([item_type.key]),
        )
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("trail", None)
    phi_log.record_read(request, [row.item for row in context["page"].rows], what=f"queue {slug}")
    _link_rows(context["page"].rows)
    pages = _pages(request, query, context["page"])
    can_see_owners = access.has(VIEW_KPIS)
    context.update(
        rows=[(row.item, row.why) for row in context["page"].rows],
        base_query=query.urlencode(),
        can_see_owners=can_see_owners,
        queue_tabs=fragments.tabs(context["queue_links"], slug, can_see_owners),
        bulk_choices=fragments.bulk_choices(context["bulk_owners"], context["next_actions"]),
        pages=pages,
        # Totals are capped (selectors.COUNT_CAP): "1,000+", "1,050+" on a page past it.
        total_label=selectors.count_label(
            context["total"], at_least=pages["end"], last_page=not pages["next"]
        ),
        count_labels={k: selectors.count_label(v) for k, v in (context["counts"] or {}).items()},
    )
    return render(request, "work/queue.html", context)


def _ready_panel(filters: Any, owners: list[Any], user: Any, today: dt.date) -> None:
    """The filter panel's choices (owners: the bulk list's), controls and fast widgets."""
    _offer_owners(filters, owners)
    _listed_choices(filters, user, today)
    _style(filters)
    use_fast_widgets(filters.form if filters is not None else None)


@require_GET
@scoped_page("view_practice", current_practice=False)
def queue_filters(request: HttpRequest, slug: str) -> HttpResponse:
    """A queue's filter panel, unfilled: what the page's collapsed panel reads when it is
    opened (the same form the page renders when it is filtered; the same access)."""
    current = registry.queue(slug)
    if current is None or current.filterset is None:
        raise Http404("No such queue.")
    item_type = registry.type(current.item_type)
    practice = request_access(request).practice_or_404(item_type.permission)
    today = timezone.localdate()
    # An unfilled form lists no rows: the queue's rows are not built (Unassigned's condition
    # reads the owners and holders of every practice of the user's to build them).
    filters = current.filterset(None, user=request.user)
    _ready_panel(filters, _owners(practice.pk, {item_type.permission}), request.user, today)
    context = {
        "filters": filters,
        "queue": current,
        "sorts": {key: label for key, (_f, _d, label) in current.sorts.items()},
        "sort": "priority",
    }
    return render(request, "work/_filter_panel.html", context)


MAX_TRAIL = 40
# A pk no row has, reversed once per item type: the rows' links are that URL with their pk.
_HREF_MARK = 8_675_309_001


def _link_rows(rows: list[selectors.Row]) -> None:
    """Each row's item page (``item.queue_href``) with one URL reversal per item type on the
    page instead of two per row (the row templates link the row and its number)."""
    prefixes: dict[str, tuple[str, str]] = {}
    for row in rows:
        name = row.item_type.detail_url_name
        if name not in prefixes:
            head, _mark, tail = reverse(name, kwargs={"pk": _HREF_MARK}).partition(str(_HREF_MARK))
            prefixes[name] = (head, tail)
        head, tail = prefixes[name]
        row.item.queue_href = f"{head}{row.item.pk}{tail}"  # type: ignore[attr-defined]


def _pages(request: HttpRequest, query: QueryDict, page: Any) -> dict[str, Any]:
    """Previous and next links, and where this page sits ("51–100"), for keyset pages: the
    URL carries the cursors of the pages before (``trail``), so "Previous" can go back."""
    after = request.GET.get("after") or ""
    trail = request.GET.get("trail", "").split(".")[-MAX_TRAIL:] if after else []

    def link(cursor: str, cursors: list[str]) -> str:
        q = query.copy()
        if cursor:
            q["after"] = cursor
            q["trail"] = ".".join(cursors)
        return f"?{q.urlencode()}"

    start = len(trail) * PAGE_SIZE + 1 if after else 1
    return {
        "start": start,
        "end": start + len(page.rows) - 1,
        "previous": link(trail[-1], trail[:-1]) if after else None,
        "next": link(page.next_cursor, [*trail, after]) if page.next_cursor else None,
    }


def queue_slugs() -> set[str]:
    """The queue keys a page may carry back ("Save and next"): My day and every queue."""
    return {MY_DAY, *(q.slug for q in registry.queues())}


def next_in_queue(request: HttpRequest, slug: str, item: Any, rank: int | None) -> str | None:
    """The URL of the item after ``item`` in the queue ``slug`` of the current practice, in
    the queue's priority order as the person saw it (``rank``: the item's priority then),
    or None at the end. The URL carries the queue key on, so the next save goes on too."""
    access = request_access(request)
    practice = access.practice
    if practice is None or slug not in queue_slugs():
        return None
    today = timezone.localdate()
    item_type = registry.type_of(item)
    rank = item.priority if rank is None else rank
    page: selectors.Page | None = None
    if slug == MY_DAY:
        types = [t.key for t in registry.types() if access.has(t.permission)]
        cursor = selectors._encode([rank, item_type.key, item.pk])
        page = selectors.my_day_page(request.user, practice.pk, cursor, 2, today, types)
    else:
        current = registry.queue(slug)
        if current is not None and access.has(registry.type(current.item_type).permission):
            items = selectors.queue_queryset(current, request.user, today).filter(
                practice_id=practice.pk
            )
            cursor = selectors._encode([rank, item.pk])
            page = selectors.keyset_page(current, items, "priority", cursor, 2)
    for row in page.rows if page is not None else []:
        if (row.item_type.key, row.item.pk) != (item_type.key, item.pk):
            url = reverse(row.item_type.detail_url_name, kwargs={"pk": row.item.pk})
            return f"{url}?from={slug}"
    return None


@require_POST
@scoped_page("view_practice")
def work_next(request: HttpRequest) -> HttpResponse:
    """Hand the requester the top unheld item of their day."""
    practice = _may_work_here(request)
    item = services.work_next(actor=acting_user(request), practice_id=practice.pk)
    if item is None:
        messages.info(request, "Nothing left in your day. Well done.")
        return redirect("queue", slug=MY_DAY)
    # The item page knows it came from My day: "Save and next" goes on through it.
    url = reverse(registry.type_of(item).detail_url_name, kwargs={"pk": item.pk})
    return redirect(f"{url}?from={MY_DAY}")


class BulkForm(forms.Form):
    """What to change; which items is read from ``items`` or the queue's filter."""

    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    next_action = forms.CharField(required=False, max_length=30)
    next_action_due = forms.DateField(required=False)
    wait_reason = forms.CharField(required=False, max_length=300)
    all_matching = forms.BooleanField(required=False)
    queue = forms.CharField(required=False)
    query = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]


def _matching(request: HttpRequest, slug: str, query: str, practice_id: int) -> dict[str, set[int]]:
    """Every item of a queue (with its filter) at the current practice: "all N matching"."""
    current = registry.queue(slug)
    if current is None:
        raise ValidationError("Choose items from a queue.")
    item_type = registry.type(current.item_type)
    items = selectors.queue_queryset(current, request.user).filter(practice_id=practice_id)
    if current.filterset is not None:
        filters = current.filterset(QueryDict(query), queryset=items, user=request.user)
        if filters.is_bound and not filters.is_valid():
            raise ValidationError("The queue's filter is not valid; nothing was changed.")
        items = filters.qs
    ids = list(items.order_by().values_list("pk", flat=True)[: BULK_ALL_LIMIT + 1])
    if len(ids) > BULK_ALL_LIMIT:
        raise ValidationError(
            f"More than {BULK_ALL_LIMIT:,} items match: narrow the filter; nothing was changed."
        )
    return {item_type.key: set(ids)}


def _safe_back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("queue", kwargs={"slug": MY_DAY})


@require_POST
@scoped_page("view_practice")
def bulk(request: HttpRequest) -> HttpResponse:
    """Reassign or set the next action of the selected items (or all matching the filter)."""
    practice = _may_work_here(request)
    back = _safe_back(request)
    # Anybody who works some item type here; the service checks each item's type.
    form = BulkForm(request.POST, owners=_holders_of_any(practice.pk, _work_permissions()))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(message) for message in error))
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["all_matching"]:
            items = _matching(request, data["queue"], data["query"], practice.pk)
        else:
            items = services.parse_item_refs(request.POST.getlist("items"))
        count = services.items_bulk_update(
            actor=acting_user(request),
            items=items,
            owner=data["owner"],
            next_action=data["next_action"] or None,
            next_action_due=data["next_action_due"],
            wait_reason=data["wait_reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"Updated {count} item{'s' if count != 1 else ''}.")
    return redirect(back)


@require_GET
@scoped_page(VIEW_KPIS)
def owners(request: HttpRequest) -> HttpResponse:
    """Per-owner workload over every item type, for managers and vendor leads."""
    practice = request_access(request).practice
    rows = selectors.owner_summary(request.user, practice.pk)
    return render(request, "work/owners.html", {"rows": rows, "practice": practice})
