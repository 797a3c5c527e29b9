from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for every app: imports everything, nothing imports it."""

    name = "demo"
