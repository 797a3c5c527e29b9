"""Audit tables the application may add to but never change.

The PHI access log, the claim timeline and every simple-history table are evidence: the
application's own database role must not be able to rewrite or remove a row of them. A
PostgreSQL row trigger (django-pgtrigger's ``Protect``) refuses UPDATE and DELETE on each;
INSERT is untouched, and so is TRUNCATE (row triggers do not fire on it), which only the
test suite's flush between transactional tests uses. On SQLite (``make run``) pgtrigger
installs nothing: there the rule is not enforced.

The triggers live in the apps' migrations like any schema change, so a data migration that
must rewrite old audit rows has to come before the one that adds the trigger (or drop and
re-add it explicitly, which shows in review).

What this does not stop: pgtrigger's triggers step aside for ``pgtrigger.ignore`` (a
session setting any role may make; tests use it to replay an old data migration), and the
role that owns a table can disable or drop its triggers. So code running arbitrary SQL as
the application's role could still get past them. Closing that needs the tables owned by a
separate migration role and the application's role granted only SELECT and INSERT on them.
"""

from __future__ import annotations

import pgtrigger
from django.apps import apps
from simple_history.models import HistoricalChanges

TRIGGER_NAME = "append_only"


def append_only() -> pgtrigger.Protect:
    """The trigger for one audit table: UPDATE and DELETE raise, INSERT goes through."""
    return pgtrigger.Protect(name=TRIGGER_NAME, operation=pgtrigger.Update | pgtrigger.Delete)


def protect_history_tables() -> None:
    """Register ``append_only`` on every simple-history model of every installed app.

    Called once the app registry is ready (``PracticesConfig.ready``), so a history added
    to any model later is protected without a line of its own; ``makemigrations`` then
    writes the trigger into that model's app.
    """
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges):
            pgtrigger.register(append_only())(model)
