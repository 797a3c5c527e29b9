"""The 270 batch of a practice's day: one inquiry per open eligibility check.

``export_270`` asks about every open check whose appointment is on that day (in the
practice's time zone): the payer, the provider of the appointment, the subscriber (the
patient, or the coverage's subscriber with the patient as a dependent), the date of
service and the service type (35 dental care for a dental practice, else 30 health benefit
plan coverage). Each patient carries the check's number ("E-12") as our trace, which the
payer returns in the 271, so ``eligibility.responses`` finds the check again. The batch is
stored; its id is the interchange control number, so no two batches share one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from eligibility.models import EligibilityCheck
from eligibility.response_models import Eligibility270Export
from eligibility.services import require_verify_perm
from eligibility.x12_270 import Envelope, Inquiry, Person, write_270
from practices.choices import AppointmentStatus, PracticeKind, Relationship
from practices.models import Practice

if TYPE_CHECKING:
    from billing_ops.access import Actor

DEFAULT_RECEIVER = "CLEARINGHOUSE"


def checks_to_ask(practice: Practice, day: dt.date) -> QuerySet[EligibilityCheck]:
    """The open checks of the practice's scheduled appointments on ``day``."""
    return (
        EligibilityCheck.objects.filter(
            practice=practice,
            closed_at__isnull=True,
            appointment__status=AppointmentStatus.SCHEDULED,
            appointment__starts_at__date=day,
        )
        .select_related("appointment__patient", "appointment__provider", "coverage", "payer")
        .order_by("payer__name", "appointment__starts_at", "pk")
    )


def split_name(name: str) -> Person:
    """A coverage's subscriber name, "Last, First" or "First Last"."""
    if "," in name:
        last, first = name.split(",", 1)
    else:
        first, _, last = name.strip().rpartition(" ")
    return Person(last.strip(), first.strip())


def inquiry_for(check: EligibilityCheck, service_type: str) -> Inquiry:
    appointment, coverage = check.appointment, check.coverage
    patient = appointment.patient
    person = Person(patient.last_name, patient.first_name, patient.date_of_birth)
    own = coverage.subscriber_relationship == Relationship.SELF or not coverage.subscriber_name
    provider = appointment.provider
    return Inquiry(
        trace=check.number,
        payer_name=check.payer.name,
        payer_id=check.payer.payer_id,
        provider_name=Person(provider.last_name, provider.first_name),
        provider_npi=provider.npi,
        subscriber=person if own else split_name(coverage.subscriber_name),
        member_id=coverage.member_id or check.member_id,
        service_date=timezone.localtime(appointment.starts_at).date(),
        patient=None if own else person,
        group_number=coverage.group_number,
        service_types=(service_type,),
    )


@transaction.atomic
def export_270(
    *,
    actor: Actor,
    practice: Practice,
    day: dt.date,
    receiver_id: str = DEFAULT_RECEIVER,
    production: bool = True,
) -> Eligibility270Export:
    """Write and store the 270 batch of the day; refused when nothing needs asking."""
    require_verify_perm(actor, practice.pk)
    checks = list(checks_to_ask(practice, day))
    if not checks:
        raise ValidationError(
            {"date": f"No open eligibility checks for appointments on {day:%m/%d/%Y}."}
        )
    batch = Eligibility270Export.objects.create(
        practice=practice,
        service_date=day,
        inquiry_count=len(checks),
        check_ids=[c.pk for c in checks],
        created_by=actor,
    )
    service_type = "35" if practice.kind == PracticeKind.DENTAL else "30"
    envelope = Envelope(
        control_number=batch.control_number,
        sender_id=practice.group_npi or practice.slug,
        receiver_id=receiver_id,
        originator_id=f"9{practice.pk:09d}",
        created_at=timezone.localtime(),
        production=production,
    )
    batch.content = write_270(envelope, [inquiry_for(c, service_type) for c in checks])
    batch.save(update_fields=["content"])
    return batch
