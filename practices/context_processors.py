"""Template context: the current practice and the switcher's choices."""

from typing import Any

from django.http import HttpRequest

from billing_ops.scoping import user_has_practice_perm
from practices import permissions as perms
from practices.selectors import current_practice


def current_practice_context(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    practice = current_practice(request)
    can_manage = practice is not None and user_has_practice_perm(
        request.user, perms.MANAGE_ACCESS, practice.pk
    )
    can_work = practice is not None and user_has_practice_perm(
        request.user, perms.WORK_CLAIMS, practice.pk
    )
    return {
        "can_work_claims": can_work,
        "current_practice": practice,
        "visible_practices": getattr(request, "_visible_practices", []),
        "can_manage_access": can_manage,
    }
