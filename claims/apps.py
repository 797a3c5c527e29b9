from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"

    def ready(self) -> None:
        from claims import audit_sources, queues  # the app registry is ready only now

        queues.register()
        audit_sources.register()
