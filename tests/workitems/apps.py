from django.apps import AppConfig


class WorkItemsConfig(AppConfig):
    """A test-only item type (chores), registered exactly as a domain app registers its own:
    it proves a new item type needs nothing from ``work/`` but a registration."""

    name = "tests.workitems"
    label = "test_workitems"

    def ready(self) -> None:
        from tests.workitems import registration  # the app registry is ready only now

        registration.register()
