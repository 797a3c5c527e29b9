from django.apps import AppConfig


class SopsConfig(AppConfig):
    name = "sops"

    def ready(self) -> None:
        from sops.functions import holders  # the app registry is ready only now
        from work.functions import register_holder_lookup

        register_holder_lookup(holders)
