# The sign-off request's link to its SOP version was named ``version``, which shadowed the
# work item's optimistic-locking counter: the link becomes ``sop_version`` and the counter
# comes back. No rows exist yet (0003 is from the same day).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sops", "0003_sops_and_sign_offs"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="sopsignoffrequest",
            name="one_open_sign_off_request",
        ),
        migrations.RenameField(
            model_name="sopsignoffrequest", old_name="version", new_name="sop_version"
        ),
        migrations.RenameField(
            model_name="historicalsopsignoffrequest", old_name="version", new_name="sop_version"
        ),
        migrations.AddField(
            model_name="sopsignoffrequest",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="historicalsopsignoffrequest",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name="sopsignoffrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("sop_version", "owner"),
                name="one_open_sign_off_request",
            ),
        ),
    ]
