"""Claim attachments: add them, and who may see clinical kinds and every trace of them.

Uploads are checked for size and for what the bytes are (not what the name claims):
PDF, PNG, JPEG, TIFF or plain text only. The name's extension and the declared content
type must be of those kinds too, and "text" that is markup (HTML, SVG, XML) is refused:
a browser could run it as a page of this site.

A clinical attachment is hidden from roles without ``view_clinical_attachments`` wherever
it shows: the attachment list, the download and the claim timeline. Its timeline entries
are left out entirely (not redacted): the list hides that the attachment exists, so "a
clinical attachment was received" would still be a trace of it.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet

from billing_ops.access import has_perm
from claims.choices import CLINICAL_ATTACHMENT_KINDS, ActivityKind, AttachmentKind, AttachmentStatus
from claims.models import Attachment, Claim, ClaimActivity
from practices import permissions as perms
from practices.services import require_practice_perm

if TYPE_CHECKING:
    from billing_ops.access import Actor

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
ALLOWED = "Only PDF, PNG, JPEG, TIFF or plain-text files can be attached."
ALLOWED_EXTENSIONS = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".txt"}
ALLOWED_CONTENT_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/pjpeg",
    "image/tiff",
    "text/plain",
    # What browsers send when they do not know; the bytes decide.
    "application/octet-stream",
}
MARKUP = re.compile(
    rb"<\s*(?:!doctype|\?xml|!\[cdata|(?:html|head|body|svg|script|iframe|object|embed|"
    rb"meta|style|link|form|img|a|base|math|xml)\b)",
    re.IGNORECASE,
)
NO_MARKUP = "HTML, SVG and other web pages cannot be attached. " + ALLOWED


def _check_declared(upload: UploadedFile) -> None:
    """The name's extension and the declared content type, before the bytes are read."""
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix in {".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml"}:
        raise ValidationError({"file": NO_MARKUP})
    if suffix and suffix not in ALLOWED_EXTENSIONS:
        raise ValidationError({"file": f"Files ending in {suffix} cannot be attached. {ALLOWED}"})
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type in {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"}:
        raise ValidationError({"file": NO_MARKUP})
    if content_type and content_type not in ALLOWED_CONTENT_TYPES:
        raise ValidationError({"file": ALLOWED})


def sniff(upload: UploadedFile) -> str:
    """The file's real type, or a ValidationError naming what is wrong with it."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is {upload.size / 1_048_576:.1f} MB; the limit is 10 MB."}
        )
    _check_declared(upload)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head:
        raise ValidationError({"file": "The file is empty."})
    for signature, name in SIGNATURES.items():
        if head.startswith(signature):
            return name
    try:
        text = upload.read(65536)
        text.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError({"file": ALLOWED}) from None
    finally:
        upload.seek(0)
    if b"\x00" in head:
        raise ValidationError({"file": ALLOWED})
    if MARKUP.search(text):
        raise ValidationError({"file": NO_MARKUP})
    return "text"


def _log(attachment: Attachment, actor: Actor) -> None:
    state = attachment.get_status_display().lower()
    ClaimActivity.objects.create(
        claim=attachment.claim,
        actor=actor,
        kind=ActivityKind.ATTACHMENT,
        text=f"{attachment.get_kind_display()} “{attachment.label}”: {state}",
        # Which attachment, and whether the entry is clinical: the timeline hides it by this.
        data={"attachment": attachment.pk, "clinical": attachment.is_clinical},
    )


def can_see_clinical(user: Any, claim: Claim) -> bool:
    return has_perm(user, perms.VIEW_CLINICAL_ATTACHMENTS, claim.practice_id)


def visible_attachments(user: Any, claim: Claim) -> QuerySet[Attachment]:
    """The claim's attachments the user may see: clinical kinds only with the permission."""
    queryset = claim.attachments.select_related("requested_by")
    if not can_see_clinical(user, claim):
        queryset = queryset.filter(non_clinical_attachments())
    return queryset


def non_clinical_attachments() -> Q:
    """The attachments a user without the clinical permission sees (page and API alike)."""
    return ~Q(kind__in=CLINICAL_ATTACHMENT_KINDS)


def visible_activities(user: Any, claim: Claim) -> QuerySet[ClaimActivity]:
    """The claim's timeline as the user may see it (page and API alike): without the
    clinical permission, attachment entries only when they are marked non-clinical, so an
    entry that does not say fails closed."""
    queryset = claim.activities.select_related("actor")
    if not can_see_clinical(user, claim):
        queryset = queryset.filter(non_clinical_entries())
    return queryset


def non_clinical_entries() -> Q:
    """The timeline entries a user without the clinical permission sees: any but an
    attachment's, and an attachment's marked non-clinical."""
    return ~Q(kind=ActivityKind.ATTACHMENT) | Q(data__clinical=False)


@transaction.atomic
def attachment_add(
    *,
    actor: Actor,
    claim: Claim,
    kind: str,
    label: str,
    status: str = AttachmentStatus.REQUESTED,
    file: UploadedFile | None = None,
) -> Attachment:
    """Request or attach a document; a received/sent attachment must carry a file."""
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": f"Unknown attachment kind {kind!r}."})
    if kind in CLINICAL_ATTACHMENT_KINDS and not can_see_clinical(actor, claim):
        raise ValidationError({"kind": "Clinical attachments are handled by the practice."})
    if status not in AttachmentStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if not label.strip():
        raise ValidationError({"label": "Give the attachment a label."})
    if file is not None:
        sniff(file)
    elif status != AttachmentStatus.REQUESTED:
        raise ValidationError({"file": "Attach the file, or mark the attachment as requested."})
    attachment = Attachment(
        claim=claim, kind=kind, label=label.strip(), status=status, requested_by=actor
    )
    if file is not None:
        attachment.file.save(file.name or "attachment", file, save=False)
    attachment._history_user = actor  # type: ignore[attr-defined]
    attachment.save()
    _log(attachment, actor)
    return attachment


# An attachment moves one way: asked for, in hand, sent to the payer.
STATUS_ORDER = [AttachmentStatus.REQUESTED, AttachmentStatus.RECEIVED, AttachmentStatus.SENT]


@transaction.atomic
def attachment_set_status(
    *,
    actor: Actor,
    attachment: Attachment,
    status: str,
    file: UploadedFile | None = None,
) -> Attachment:
    """Move an attachment along requested → received → sent (a file is needed from
    "received" on: give it with the move if the request had none)."""
    claim = attachment.claim
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    if attachment.is_clinical and not can_see_clinical(actor, claim):
        raise PermissionDenied("Clinical attachments are handled by the practice.")
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if status not in AttachmentStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if STATUS_ORDER.index(AttachmentStatus(status)) <= STATUS_ORDER.index(
        AttachmentStatus(attachment.status)
    ):
        raise ValidationError(
            {
                "status": f"It is already {attachment.get_status_display().lower()}: "
                "an attachment moves requested → received → sent."
            }
        )
    if file is not None:
        sniff(file)
        attachment.file.save(file.name or "attachment", file, save=False)
    elif not attachment.file:
        raise ValidationError({"file": "Attach the file to mark it received or sent."})
    attachment.status = status
    attachment._history_user = actor  # type: ignore[attr-defined]
    attachment.save()
    _log(attachment, actor)
    return attachment
