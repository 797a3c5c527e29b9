from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "practices"

    def ready(self) -> None:
        from billing_ops.append_only import protect_history_tables

        # Every app's models are loaded by now; this covers their history tables too.
        protect_history_tables()
