"""Notifications belong to the work core (reminders for every item type): copy each row to
work.Notification, naming its claim as item ("claim", id), then drop ar.Notification.

Dedupe keys of next-action and escalation notifications now carry the item type, so they are
rewritten to the new form: a job run on the day of the upgrade still finds them and repeats
nothing. Timely-filing keys keep their form.
"""

from django.db import migrations

RETYPED = ("due_today", "overdue", "escalation")


def copy_to_work(apps, schema_editor):
    old = apps.get_model("ar", "Notification")
    new = apps.get_model("work", "Notification")
    rows = []
    for n in old.objects.all().iterator():
        key = n.dedupe_key
        kind, _, rest = key.partition(":")
        if kind in RETYPED and n.claim_id is not None:
            key = f"{kind}:claim:{rest}"
        rows.append(
            new(
                user_id=n.user_id,
                practice_id=n.practice_id,
                item_type="claim" if n.claim_id else "",
                item_id=n.claim_id,
                kind=n.kind,
                message=n.message,
                for_date=n.for_date,
                dedupe_key=key,
                created_at=n.created_at,
                read_at=n.read_at,
            )
        )
    new.objects.bulk_create(rows, batch_size=1000)


def copy_back(apps, schema_editor):
    old = apps.get_model("ar", "Notification")
    new = apps.get_model("work", "Notification")
    rows = []
    for n in new.objects.all().iterator():
        kind, _, rest = n.dedupe_key.partition(":")
        key = f"{kind}:{rest.removeprefix('claim:')}" if kind in RETYPED else n.dedupe_key
        rows.append(
            old(
                user_id=n.user_id,
                practice_id=n.practice_id,
                claim_id=n.item_id if n.item_type == "claim" else None,
                kind=n.kind,
                message=n.message,
                for_date=n.for_date,
                dedupe_key=key,
                created_at=n.created_at,
                read_at=n.read_at,
            )
        )
    old.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ar", "0001_initial"),
        ("work", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_to_work, copy_back),
        migrations.RemoveIndex(model_name="notification", name="ar_notifica_user_id_b5c835_idx"),
        migrations.DeleteModel(name="Notification"),
    ]
