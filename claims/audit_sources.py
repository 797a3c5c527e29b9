"""The claims' change records on the practice audit trail (``practices.audit_log``): claim
history (every saved version) and the claim timeline (notes, follow-ups, status and owner
changes, attachments). The trail shows the kind of entry and the claim id, never its text."""

from __future__ import annotations

from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from practices.audit_log import ChangeSource, register_change_source


def register() -> None:
    """Called once from ``ClaimsConfig.ready``."""
    register_change_source(
        ChangeSource(
            key="claim-history",
            label="Claim",
            rows=lambda: Claim.history.all(),
            at="history_date",
            user="history_user",
            patient="patient_id",
            practice="practice_id",
            object_id="id",
            kind="history_type",
            url_name="claim-detail",
        )
    )
    register_change_source(
        ChangeSource(
            key="claim-timeline",
            label="Claim",
            rows=lambda: ClaimActivity.objects.all(),
            at="at",
            user="actor",
            patient="claim__patient_id",
            practice="claim__practice_id",
            object_id="claim_id",
            kind="kind",
            kind_labels={value: str(label) for value, label in ActivityKind.choices},
            url_name="claim-detail",
        )
    )
