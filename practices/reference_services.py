"""Writes for a practice's reference data kept by its managers: payers and providers.

Claim imports add the payers and NPIs their files name (``services.payer_create`` and
``provider_create``, for anyone who works claims); here managers list, add and correct
them. Each write validates the whole row, stays inside the practice and records the
acting user in the row's history.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from practices import permissions as perms
from practices.models import Payer, Practice, Provider
from practices.services import require_practice_perm

# Managers keep the payer list (timely filing and appeal windows drive deadlines) and the
# providers; vendor staff never hold this permission (permissions.NEVER_FOR_VENDORS).
MANAGE_REFERENCE = perms.MANAGE_SOPS

PAYER_FIELDS = frozenset(
    {
        "name",
        "payer_id",
        "claim_format",
        "timely_filing_days",
        "appeal_window_days",
        "phone",
        "portal_url",
    }
)
PROVIDER_FIELDS = frozenset({"first_name", "last_name", "npi", "taxonomy_code", "is_active"})


def _apply(instance: Any, fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    for name, value in fields.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _save(instance: Any, actor: Any) -> None:
    # full_clean checks the unique (practice, payer id / NPI) pair and says it at the field.
    try:
        instance.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        if "__all__" in errors:
            field = "payer_id" if isinstance(instance, Payer) else "npi"
            errors.setdefault(field, []).extend(errors.pop("__all__"))
        raise ValidationError(errors) from None
    instance._history_user = actor
    instance.save()


@transaction.atomic
def payer_save(
    *, actor: Any, practice: Practice, payer: Payer | None = None, **fields: Any
) -> Payer:
    """Add a payer to the practice (``payer`` None) or correct one of its payers."""
    require_practice_perm(actor, MANAGE_REFERENCE, practice)
    if payer is None:
        payer = Payer(practice=practice)
    elif payer.practice_id != practice.pk:
        raise ValidationError({"payer": f"Must belong to {practice}."})
    _apply(payer, fields, PAYER_FIELDS)
    _save(payer, actor)
    return payer


@transaction.atomic
def provider_save(
    *, actor: Any, practice: Practice, provider: Provider | None = None, **fields: Any
) -> Provider:
    """Add a provider to the practice (``provider`` None) or correct one of its providers."""
    require_practice_perm(actor, MANAGE_REFERENCE, practice)
    if provider is None:
        provider = Provider(practice=practice)
    elif provider.practice_id != practice.pk:
        raise ValidationError({"provider": f"Must belong to {practice}."})
    _apply(provider, fields, PROVIDER_FIELDS)
    _save(provider, actor)
    return provider
