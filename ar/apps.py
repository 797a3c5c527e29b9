from django.apps import AppConfig


class ArConfig(AppConfig):
    name = "ar"

    def ready(self) -> None:
        from ar import queues  # the app registry is ready only now

        queues.register()
