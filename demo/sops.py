"""Demo billing functions, SOPs and escalations for ``manage.py seed_demo``.

Per practice: every billing function with an owner (Sunrise: the biller and front desk
in-house, the vendor for claim follow-up, denials and posting; Maple: the vendor lead with
the manager as backup); an SOP per practice with a version nobody has fully signed
(Sunrise's claim follow-up SOP in two versions, the biller signed the second); an open
escalation on an open claim and a routine question; a payer rule library with confirmed
and unconfirmed rules (and the demo's structured scrubber rules, unconfirmed). Everything
goes through the services and is keyed on natural keys, so a second run adds nothing;
``reset_sops`` removes the SOPs, payer rules and escalations (the functions stay: they are
the practice's set-up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from claims.models import Claim, PayerRule
from practices.models import Payer, Practice
from sops import escalation_services, function_services, qa, rule_services, sop_services
from sops.choices import BillingFunctionKind as Kind
from sops.choices import Sourcing
from sops.escalation_models import Escalation
from sops.models import BillingFunction
from sops.qa_models import QaPlan, QaReview
from sops.rule_models import HouseRule, HouseRuleReview
from sops.sop_models import Sop, SopSignOff, SopSignOffRequest, SopVersion

SUNRISE = "sunrise-dental"

# kind -> (owner, backup, sourcing, turnaround days, how to reach)
SUNRISE_FUNCTIONS: dict[str, tuple[str, str | None, str, int, str]] = {
    Kind.CHARGE_CAPTURE: ("bill.biller", "sam.manager", Sourcing.IN_HOUSE, 1, "ext. 214"),
    Kind.CODING_REVIEW: ("sam.manager", "bill.biller", Sourcing.IN_HOUSE, 2, "ext. 200"),
    Kind.CLAIM_SUBMISSION: ("bill.biller", "vera.vendor", Sourcing.IN_HOUSE, 1, "ext. 214"),
    Kind.CLAIM_FOLLOW_UP: (
        "vera.vendor",
        "bill.biller",
        Sourcing.VENDOR,
        3,
        "Clearpath desk 555-0142, 8-5 weekdays",
    ),
    Kind.PAYMENT_POSTING: ("vera.vendor", "val.vendorlead", Sourcing.VENDOR, 2, "Clearpath desk"),
    Kind.DENIAL_FOLLOW_UP: ("vera.vendor", "bill.biller", Sourcing.VENDOR, 3, "Clearpath desk"),
    Kind.PATIENT_STATEMENTS: ("fran.frontdesk", "bill.biller", Sourcing.IN_HOUSE, 5, "Front desk"),
    Kind.ELIGIBILITY: ("fran.frontdesk", "bill.biller", Sourcing.IN_HOUSE, 1, "Front desk"),
    Kind.RECARE: ("fran.frontdesk", "sam.manager", Sourcing.IN_HOUSE, 7, "Front desk"),
}
MAPLE_LEAD = ("val.vendorlead", "mia.manager", Sourcing.VENDOR, 3, "Clearpath lead line")

FOLLOW_UP_V1: dict[str, Any] = {
    "objective": "Every claim without a payer answer after 30 days is followed up.",
    "steps": [
        "Open Payer AR, oldest first.",
        "Call the payer; note the reference number.",
        "Log the outcome and the next action in one submit.",
    ],
    "timeline": "Every weekday; no claim older than 30 days without a call.",
    "escalation_path": "Owner, then backup, then the practice manager.",
    "payer_requirements": "Delta Dental: claim status through the portal only.",
    "change_summary": "First version",
}
FOLLOW_UP_V2 = {
    **FOLLOW_UP_V1,
    "steps": [
        "Open Payer AR, oldest first.",
        "Check the payer portal before calling.",
        "Call the payer; note the reference number.",
        "Log the outcome and the next action in one submit.",
    ],
    "change_summary": "Check the portal before calling",
}
SUBMISSION_V1: dict[str, Any] = {
    "objective": "Clean claims go out within one business day of the visit.",
    "steps": [
        "Import the day's charges.",
        "Fix every scrubber finding.",
        "Submit and check the 277CA the next morning.",
    ],
    "timeline": "Daily by noon.",
    "escalation_path": "Vendor lead, then the practice manager.",
    "payer_requirements": "Medicare: no secondary until the primary's 835 posted.",
    "change_summary": "First version",
}
# (procedure pattern, decision, confirmation source or "" for unconfirmed)
RULES = [
    (
        "D27*",
        "Crowns: send the pre-op x-ray and a narrative with the claim.",
        "Provider manual p. 14",
    ),
    ("D4341", "Scaling and root planing: a perio chart from the last 12 months.", ""),
    ("", "Corrected claims go with frequency code 7 and the original claim number.", ""),
]
QUESTION = "Does this patient have a secondary plan we should bill?"
ROUTINE = "Which fax number does the practice use for records requests?"


def _functions(practice: Practice, users: dict[str, Any]) -> dict[str, BillingFunction]:
    specs = (
        SUNRISE_FUNCTIONS
        if practice.slug == SUNRISE
        else {kind: MAPLE_LEAD for kind in Kind.values}
    )
    made = {f.kind: f for f in BillingFunction.objects.filter(practice=practice)}
    for kind, (owner, backup, sourcing, days, reach) in specs.items():
        if kind in made:  # a second run (or the manager's own change) keeps it
            continue
        made[kind] = function_services.billing_function_set(
            actor=None,
            practice=practice,
            kind=kind,
            owner=users[owner],
            backup=users[backup] if backup else None,
            sourcing=sourcing,
            turnaround_days=days,
            how_to_reach=reach,
        )
    return made


def _sop(function: BillingFunction, owner: Any, versions: list[dict[str, Any]]) -> SopVersion:
    current = Sop.objects.filter(function=function).first()
    if current is not None:
        latest = current.current_version()
        assert latest is not None
        return latest
    version = None
    for fields in versions:
        version = sop_services.sop_save(actor=None, function=function, owner=owner, **fields)
    assert version is not None
    return version


def _escalations(practice: Practice, users: dict[str, Any], today: dt.date) -> None:
    if Escalation.objects.filter(practice=practice, question=QUESTION).exists():
        return
    claim = (
        Claim.objects.filter(practice=practice, owner__isnull=False)
        .exclude(next_action="")
        .order_by("pk")
        .first()
    )
    if claim is None:
        return
    asker = users["vera.vendor"] if practice.slug == SUNRISE else users["val.vendorlead"]
    escalation_services.escalation_raise(
        actor=None,
        subject_type="claim",
        subject_id=claim.pk,
        function_kind=Kind.ELIGIBILITY if practice.slug == SUNRISE else Kind.CLAIM_FOLLOW_UP,
        question=QUESTION,
        deadline=today + dt.timedelta(days=2),
        today=today,
    )
    Escalation.objects.filter(practice=practice, question=QUESTION).update(raised_by=asker)
    escalation_services.escalation_raise(
        actor=None,
        subject_type="claim",
        subject_id=claim.pk,
        function_kind=Kind.CLAIM_SUBMISSION,
        question=ROUTINE,
        is_routine=True,
        today=today,
    )


def _rules(practice: Practice, manager: Any) -> None:
    payer = Payer.objects.filter(practice=practice).order_by("pk").first()
    if payer is None or HouseRule.objects.filter(practice=practice).exists():
        return
    for pattern, decision, source in RULES:
        rule = rule_services.house_rule_save(
            actor=manager,
            practice=practice,
            payer=payer,
            procedure_pattern=pattern,
            decision=decision,
        )
        if source:
            rule_services.house_rule_confirm(actor=manager, rule=rule, source=source)
    # The structured scrubber rules the demo has join the library (unconfirmed).
    for structured in PayerRule.objects.filter(practice=practice, is_active=True):
        if not HouseRule.objects.filter(payer_rule=structured).exists():
            rule_services.house_rule_save(
                actor=manager,
                practice=practice,
                payer=structured.payer,
                procedure_pattern=structured.procedure_code_pattern,
                decision=structured.description,
                payer_rule=structured,
            )


def seed_sops(practice: Practice, users: dict[str, Any]) -> None:
    """Functions, SOPs (one version left unsigned), the payer rule library and escalations
    of one practice."""
    today = timezone.localdate()
    functions = _functions(practice, users)
    manager = users["sam.manager"] if practice.slug == SUNRISE else users["mia.manager"]
    _rules(practice, manager)
    if practice.slug == SUNRISE:
        v2 = _sop(
            functions[Kind.CLAIM_FOLLOW_UP], users["vera.vendor"], [FOLLOW_UP_V1, FOLLOW_UP_V2]
        )
        sop_services.sop_sign_off(actor=users["bill.biller"], version=v2)
    else:
        _sop(functions[Kind.CLAIM_SUBMISSION], users["val.vendorlead"], [SUBMISSION_V1])
    _escalations(practice, users, today)


def reset_sops(practices: Iterable[Practice]) -> None:
    """Remove the demo practices' SOPs and escalations (inside ``pgtrigger.ignore``)."""
    practices = list(practices)
    QaReview.objects.filter(practice__in=practices).delete()
    HouseRuleReview.objects.filter(practice__in=practices).delete()
    HouseRule.objects.filter(practice__in=practices).delete()
    Escalation.objects.filter(practice__in=practices).delete()
    SopSignOffRequest.objects.filter(practice__in=practices).delete()
    SopSignOff.objects.filter(version__sop__practice__in=practices).delete()
    SopVersion.objects.filter(sop__practice__in=practices).delete()
    Sop.objects.filter(practice__in=practices).delete()


def seed_qa(practices: Iterable[Practice]) -> None:
    """This week's QA sample (three claims a practice): the claims the demo submitted."""
    for practice in practices:
        QaPlan.objects.get_or_create(practice=practice, defaults={"sample_size": 3})
    # The demo's claims were submitted over the last months: sample from 90 days.
    qa.sample_week(timezone.localdate() + dt.timedelta(days=1), window_days=90)
