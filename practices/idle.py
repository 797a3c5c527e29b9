"""Idle vendor accounts: who has not been seen for a number of days.

A vendor account is a user whose access comes only through a vendor (``VendorStaff``,
no active in-house membership; superusers never). It is idle when neither a sign-in
(``last_login``) nor an API token use (``ApiToken.last_used_at``) happened since the
cutoff; an account that never signed in counts from its creation (``date_joined``).
The deactivation itself is ``services.user_set_active`` with the system as actor (it
re-derives access); the job that calls it and tells the managers lives above
(``sops.access_reviews``), where notifications are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from practices.models import ApiToken

User = get_user_model()


def vendor_only_accounts() -> QuerySet[Any]:
    """Active users whose access comes only through a vendor."""
    return (
        User.objects.filter(is_active=True, is_superuser=False, vendor_staff__isnull=False)
        .exclude(memberships__is_active=True)
        .distinct()
    )


def idle_vendor_accounts(now: dt.datetime, days: int) -> QuerySet[Any]:
    """Vendor-only accounts with no sign-in and no API use in the ``days`` before ``now``."""
    cutoff = now - dt.timedelta(days=days)
    recent_api = ApiToken.objects.filter(user_id=OuterRef("pk"), last_used_at__gte=cutoff)
    return (
        vendor_only_accounts()
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .exclude(Exists(recent_api))
        .select_related("vendor_staff__vendor")
        .order_by("pk")
    )


def last_seen(user: Any) -> dt.datetime | None:
    """The later of the account's last sign-in and its last API token use (None: never)."""
    used = ApiToken.objects.filter(user=user).aggregate(at=Max("last_used_at"))["at"]
    seen = [at for at in (user.last_login, used) if at is not None]
    return max(seen, default=None)
