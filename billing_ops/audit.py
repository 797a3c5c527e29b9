"""Security audit lines: an existing object refused to a user outside its scope.

Missing and forbidden objects both answer 404 (no probing), but an auditor needs to see
the forbidden ones: who asked for what kind of record, where. The lines name the user by
id, the model and the path without its query string, never anything the record holds.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest

logger = logging.getLogger("billing_ops.security")


class OutOfScope(Http404):
    """The 404 for an object that exists outside the user's scope: answered exactly like a
    missing one, and logged by ``billing_ops.access.AccessMiddleware``."""

    def __init__(self, model: type[models.Model]) -> None:
        super().__init__("Not found.")
        self.model = model


def exists_unscoped(model: type[models.Model], **lookup: Any) -> bool:
    """Whether the lookup finds a row in the whole table (malformed values find none)."""
    try:
        return model._default_manager.filter(**lookup).exists()
    except (ValueError, TypeError, ValidationError):
        return False


def log_scope_denial(request: HttpRequest, model: type[models.Model], reason: str = "read") -> None:
    """One warning line on ``billing_ops.security``: user id, method, path, model, reason."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    logger.warning(
        "Refused out-of-scope %s: user_id=%s method=%s path=%s model=%s",
        reason,
        user_id,
        request.method,
        request.path,
        model._meta.label,
        extra={
            "user_id": user_id,
            "path": request.path,
            "model": model._meta.label,
            "reason": reason,
        },
    )
