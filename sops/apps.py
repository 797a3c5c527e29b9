from django.apps import AppConfig


class SopsConfig(AppConfig):
    name = "sops"

    def ready(self) -> None:
        from claims import panels  # the app registry is ready only now
        from sops import access_reviews, queues
        from sops.functions import holders
        from sops.panels import claim_escalations, item_escalations
        from work import panels as item_panels
        from work.functions import register_holder_lookup

        register_holder_lookup(holders)
        queues.register()
        access_reviews.register()
        panels.register("escalations", claim_escalations, order=30)
        item_panels.register("escalations", item_escalations, order=30)
