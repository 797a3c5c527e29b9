"""The Celery app; the beat schedule is defined here, in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.local")

app = Celery("billing_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Patient statements: each practice on its own day of the month (idempotent).
    "run-statement-cycles": {
        "task": "ar.account_tasks.run_statement_cycles",
        "schedule": crontab(hour=5, minute=30),
    },
    # Payment plans: reminders, missed installments, plans broken after grace (idempotent).
    "run-payment-plans": {
        "task": "ar.plan_tasks.run_payment_plans",
        "schedule": crontab(hour=5, minute=20),
    },
    "refresh-priorities": {
        "task": "work.tasks.refresh_priorities",
        "schedule": crontab(hour=0, minute=5),
    },
    "expire-ended-assignments": {
        "task": "practices.tasks.expire_ended_assignments",
        "schedule": crontab(minute="*/15"),
    },
    # Reminder jobs run for "today" in the site's time zone (TIME_ZONE); the hours below
    # are read in CELERY_TIMEZONE.
    "send-next-action-reminders": {
        "task": "work.tasks.send_next_action_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "send-timely-filing-alerts": {
        "task": "claims.tasks.send_timely_filing_alerts",
        "schedule": crontab(hour=6, minute=15),
    },
    "send-appeal-deadline-alerts": {
        "task": "denials.tasks.send_appeal_deadline_alerts",
        "schedule": crontab(hour=6, minute=20),
    },
    "prior-authorization-alerts": {
        "task": "eligibility.auth_tasks.prior_authorization_alerts",
        "schedule": crontab(hour=6, minute=25),
    },
    "recare-refresh": {
        "task": "eligibility.auth_tasks.recare_refresh",
        "schedule": crontab(minute=40),
    },
    # Payer house rules due for their quarterly review become work items (idempotent).
    "open-payer-rule-reviews": {
        "task": "sops.tasks.open_rule_reviews",
        "schedule": crontab(hour=5, minute=50),
    },
    # QA: a weekly sample of submitted claims per practice (idempotent per week).
    "sample-qa-reviews": {
        "task": "sops.tasks.sample_qa",
        "schedule": crontab(hour=5, minute=55, day_of_week=1),
    },
    # Mini-audit: ten of last month's denied or delayed claims per practice, on the 1st.
    "sample-mini-audits": {
        "task": "sops.tasks.sample_mini_audits",
        "schedule": crontab(hour=5, minute=57, day_of_month=1),
    },
    # Access review (issue 14): one per practice a quarter (idempotent), and vendor accounts
    # idle for VENDOR_IDLE_DEACTIVATE_DAYS deactivated, managers and the vendor lead told.
    "open-access-reviews": {
        "task": "sops.tasks.open_access_reviews",
        "schedule": crontab(hour=5, minute=45),
    },
    "deactivate-idle-vendor-accounts": {
        "task": "sops.tasks.deactivate_idle_vendor_accounts",
        "schedule": crontab(hour=5, minute=40),
    },
    "send-daily-digests": {
        "task": "work.tasks.send_daily_digests",
        "schedule": crontab(hour=6, minute=30),
    },
    # KPI snapshots: yesterday final and today first, after the priority refresh.
    "rollup-kpis": {
        "task": "reports.tasks.rollup_kpis",
        "schedule": crontab(hour=1, minute=0),
    },
    "refresh-kpis-today": {
        "task": "reports.tasks.refresh_today",
        "schedule": crontab(minute="*/15"),
    },
    "send-weekly-kpi-snapshots": {
        "task": "reports.tasks.send_weekly_snapshots",
        "schedule": crontab(hour=7, minute=0, day_of_week=1),
    },
    # One check per appointment and coverage at T-72 h (idempotent; follows reschedules).
    "open-eligibility-checks": {
        "task": "eligibility.tasks.open_eligibility_checks",
        "schedule": crontab(minute="*/15"),
    },
    "escalate-overdue": {
        "task": "sops.tasks.escalate_overdue",
        "schedule": crontab(minute=0),
    },
}
