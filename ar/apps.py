from django.apps import AppConfig


class ArConfig(AppConfig):
    name = "ar"

    def ready(self) -> None:
        from ar import account_queues, panels, queues  # the app registry is ready only now
        from denials.panels import register_denial_panel

        queues.register()
        account_queues.register()
        register_denial_panel("remittance-lines", panels.remittance_lines, order=20)
