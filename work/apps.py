from django.apps import AppConfig


class WorkConfig(AppConfig):
    """The work-item core: every item somebody must act on, its queues and reminders."""

    name = "work"
