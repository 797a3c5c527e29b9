from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"

    def ready(self) -> None:
        from claims import panels  # the app registry is ready only now
        from denials import queues
        from denials.panels import claim_denials

        queues.register()
        panels.register("denials", claim_denials, order=10)
