from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"

    def ready(self) -> None:
        from denials import queues  # the app registry is ready only now

        queues.register()
