"""The SOP sign-off and escalation item types and their queues, registered with the work
core.

A sign-off request is owned by the performer who has to sign; it shows in their My day
until they sign the version (or a newer one supersedes it). The "SOP sign-offs" queue
shows a manager every pending sign-off of the practice, anybody else their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from billing_ops.access import visible_practice_ids
from practices import permissions as perms
from sops.choices import EscalationStatus, QaStatus, ReviewStatus, SignOffStatus
from sops.escalation_models import Escalation
from sops.qa_audit_models import MiniAudit
from sops.qa_models import QaReview
from sops.rule_models import HouseRuleReview
from sops.sop_models import SopSignOffRequest
from sops.sop_services import sign_off_requests_withdraw
from work.registry import ItemType, Queue, registry


def describe(request: SopSignOffRequest) -> str:
    """``SOP Claim follow-up SOP v3 to sign off``."""
    return f"SOP {request.sop_version.sop.title} v{request.sop_version.number} to sign off"


def log_activity(item: Any, actor: Any, kind: str, text: str) -> None:
    """Sign-off requests and escalations keep no timeline of their own: their history records every
    change with its author (``save_checked``)."""


SIGN_OFF = ItemType(
    key="sop_sign_off",
    model=SopSignOffRequest,
    label="SOP sign-off",
    permission=perms.VIEW_PRACTICE,
    open_condition=Q(status=SignOffStatus.OPEN),
    detail_url_name="sop-sign-off-request",
    escalate_when_overdue=False,
    withdraw_on_handover=sign_off_requests_withdraw,
    describe=describe,
    log_activity=log_activity,
    select_related=("practice", "owner", "sop_version", "sop_version__sop"),
)


def _mine_or_managed(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    managed = visible_practice_ids(user, perms.MANAGE_SOPS)
    return items.filter(Q(owner=user) | Q(practice_id__in=managed))


SIGN_OFF_QUEUE = Queue(
    "sop-sign-offs",
    "SOP sign-offs",
    "SOP versions waiting for the sign-off of the people who perform the function.",
    "sop_sign_off",
    _mine_or_managed,
    order=60,
)


def describe_escalation(escalation: Escalation) -> str:
    """``Escalation E-4 about Claim C123 (...)``: the subject's own minimum-necessary label."""
    return f"Escalation E-{escalation.pk} about {escalation.subject_label}"


ESCALATION = ItemType(
    key="escalation",
    model=Escalation,
    label="Escalation",
    permission=perms.VIEW_PRACTICE,
    open_condition=Q(status=EscalationStatus.OPEN),
    detail_url_name="escalation-detail",
    escalate_when_overdue=False,
    describe=describe_escalation,
    log_activity=log_activity,
    select_related=("practice", "owner", "function"),
)


def _awaiting(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return _mine_or_managed(items, user, today).filter(is_routine=False)


def _routine(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return _mine_or_managed(items, user, today).filter(is_routine=True)


AWAITING_QUEUE = Queue(
    "awaiting-practice",
    "Awaiting the practice",
    "Escalations the practice must answer: one question each, by its deadline.",
    "escalation",
    _awaiting,
    order=55,
)
ROUTINE_QUEUE = Queue(
    "routine-questions",
    "Routine questions",
    "Questions for the practice without a deadline: answer when you can.",
    "escalation",
    _routine,
    order=65,
)


def describe_review(review: HouseRuleReview) -> str:
    return f"Payer rule {review.rule} due for review"


RULE_REVIEW = ItemType(
    key="payer_rule_review",
    model=HouseRuleReview,
    label="Payer rule review",
    permission=perms.MANAGE_SOPS,
    open_condition=Q(status=ReviewStatus.OPEN),
    detail_url_name="payer-rule-review",
    escalate_when_overdue=False,
    describe=describe_review,
    log_activity=log_activity,
    select_related=("practice", "owner", "rule", "rule__payer"),
)


def describe_qa(review: QaReview) -> str:
    return f"QA review Q-{review.pk} of week {review.week}"


# QA reviews and mini-audits are claim work: only people who work claims at the practice may
# own one (so nobody else can take one over through a bulk reassign and record on it).
QA_REVIEW = ItemType(
    key="qa_review",
    model=QaReview,
    label="QA review",
    permission=perms.WORK_CLAIMS,
    open_condition=Q(status=QaStatus.OPEN),
    detail_url_name="qa-review",
    escalate_when_overdue=False,
    describe=describe_qa,
    log_activity=log_activity,
    select_related=("practice", "owner", "claim"),
)


def describe_audit(audit: MiniAudit) -> str:
    return f"Mini-audit A-{audit.pk} of {audit.month}"


MINI_AUDIT = ItemType(
    key="mini_audit",
    model=MiniAudit,
    label="Mini-audit",
    permission=perms.WORK_CLAIMS,
    open_condition=Q(status=QaStatus.OPEN),
    detail_url_name="mini-audit",
    escalate_when_overdue=False,
    describe=describe_audit,
    log_activity=log_activity,
    select_related=("practice", "owner"),
)


def register() -> None:
    """Called from ``SopsConfig.ready``."""
    registry.register_type(SIGN_OFF)
    registry.register_queue(SIGN_OFF_QUEUE)
    registry.register_type(ESCALATION)
    registry.register_queue(AWAITING_QUEUE)
    registry.register_queue(ROUTINE_QUEUE)
    registry.register_type(RULE_REVIEW)
    registry.register_type(QA_REVIEW)
    registry.register_type(MINI_AUDIT)
