from django.apps import AppConfig


class WorkConfig(AppConfig):
    """The work-item core: every item somebody must act on, its queues and reminders."""

    name = "work"

    def ready(self) -> None:
        # practices cannot import work (layers): it asks the work core, through this hook,
        # for a person's open items when their access ends, and hands them over.
        from practices import handover
        from work.handover import PROVIDER

        handover.register(PROVIDER)
