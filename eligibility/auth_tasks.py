"""Beat jobs of prior authorizations and recare (registered by ``EligibilityConfig.ready``).

Both are idempotent: run twice on a day, the second run changes nothing and alerts nobody
again.
"""

from typing import Any

from celery import shared_task

from eligibility.authorizations import authorizations_sweep
from eligibility.recare import recare_sweep
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def prior_authorization_alerts(self: Any, on: str | None = None) -> dict[str, int]:
    """Expire ended authorizations; alert owners before expiry and when units run low."""
    return authorizations_sweep(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def recare_refresh(self: Any, on: str | None = None) -> dict[str, int]:
    """Add planned treatment nobody booked again; close items whose patient has booked."""
    return recare_sweep(day(on))
