from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"

    def ready(self) -> None:
        from claims import panels, payer_rule_proposals  # the app registry is ready only now
        from denials import loop, queues
        from denials.panels import claim_denials

        queues.register()
        payer_rule_proposals.register_source(loop.SOURCE)
        panels.register("denials", claim_denials, order=10)
