"""Celery tasks of the sops app (autodiscovered as ``sops.tasks``)."""

from celery import shared_task

from sops import access_reviews, escalation_services, escalations, qa, qa_audit, rule_services
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def escalate_overdue(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Escalate items overdue beyond their function's turnaround to the primary contact,
    and move overdue escalations on to the backup, then a manager."""
    counts = escalations.escalate_overdue(day(on))
    moved = escalation_services.reroute_overdue(day(on))
    return {**counts, **{f"rerouted_{key}": value for key, value in moved.items()}}


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def open_rule_reviews(self, on: str | None = None) -> int:  # noqa: ANN001
    """A review work item for each payer house rule whose quarterly review is due."""
    return rule_services.open_due_reviews(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def sample_qa(self, on: str | None = None) -> int:  # noqa: ANN001
    """This week's QA sample of submitted claims at every practice (once a week)."""
    return qa.sample_week(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def open_access_reviews(self, on: str | None = None) -> int:  # noqa: ANN001
    """This quarter's access review at every practice with vendor accounts (once a quarter)."""
    return access_reviews.open_quarterly_reviews(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def deactivate_idle_vendor_accounts(self) -> int:  # noqa: ANN001
    """Deactivate vendor accounts idle for VENDOR_IDLE_DEACTIVATE_DAYS (a rerun finds none)."""
    return access_reviews.deactivate_idle_vendor_accounts()


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def sample_mini_audits(self, on: str | None = None) -> int:  # noqa: ANN001
    """Last month's mini-audit of denied and delayed claims at every practice (once a month)."""
    return qa_audit.sample_month(day(on))
