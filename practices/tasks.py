"""Periodic jobs for access: each can run twice without a double effect."""

from celery import shared_task

from practices import people_services, services


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def expire_ended_assignments(self) -> int:  # noqa: ANN001
    """Revoke practice permissions of assignments and engagements past their end date,
    after handing the open work of their people over (the successor named with the end
    date, else the billing functions' owners, the managers told): nothing falls to
    Unassigned silently when the rows go."""
    people_services.hand_over_ended_assignments()
    return services.expire_ended_assignments()


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def sync_user_access_task(self, user_id: int) -> tuple[int, int]:  # noqa: ANN001
    """Re-derive one user's access (idempotent: a second run changes nothing)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return (0, 0)
    return services.sync_user_access(user)
