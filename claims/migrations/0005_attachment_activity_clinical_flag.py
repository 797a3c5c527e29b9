"""Mark the attachment entries of the timeline written before they carried it: which
attachment, and whether it is clinical, so the timeline can hide clinical ones from roles
without view_clinical_attachments.

Older entries hold only their text, ``<Kind label> “<label>”: <status>``. The kind is read
from that text; an entry whose kind cannot be read stays unmarked, and the timeline treats
an unmarked attachment entry as clinical (it fails closed).
"""

from django.db import migrations

# The attachment kinds' labels as they were written into the text (claims.choices at the
# time of this migration; a later relabelling must not change what this reads).
KIND_BY_LABEL = {
    "Narrative": "narrative",
    "EOB": "eob",
    "X-ray / image": "xray",
    "Perio chart": "perio_chart",
    "Referral": "referral",
    "Signed form": "signed_form",
}
CLINICAL_KINDS = {"narrative", "xray", "perio_chart"}
BATCH = 500


def parse(text):
    """(kind, label) of an entry's text, or None when it does not read as one."""
    head, sep, rest = text.partition(" “")
    label, sep2, _status = rest.rpartition("”: ")
    if not sep or not sep2 or head not in KIND_BY_LABEL:
        return None
    return KIND_BY_LABEL[head], label


def mark_entries(apps, schema_editor):
    ClaimActivity = apps.get_model("claims", "ClaimActivity")
    Attachment = apps.get_model("claims", "Attachment")
    entries = ClaimActivity.objects.filter(kind="attachment").exclude(data__has_key="clinical")
    changed = []
    for entry in entries.iterator(chunk_size=BATCH):
        parsed = parse(entry.text)
        if parsed is None:
            continue
        kind, label = parsed
        data = dict(entry.data or {})
        data["clinical"] = kind in CLINICAL_KINDS
        match = list(
            Attachment.objects.filter(claim_id=entry.claim_id, kind=kind, label=label)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:2]
        )
        if len(match) == 1:
            data["attachment"] = match[0]
        entry.data = data
        changed.append(entry)
        if len(changed) >= BATCH:
            ClaimActivity.objects.bulk_update(changed, ["data"])
            changed = []
    if changed:
        ClaimActivity.objects.bulk_update(changed, ["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_claim_priority_reasons"),
    ]

    operations = [
        migrations.RunPython(mark_entries, migrations.RunPython.noop, elidable=True),
    ]
