from django.apps import AppConfig


class ArConfig(AppConfig):
    name = "ar"

    def ready(self) -> None:
        # The app registry is ready only now.
        from ar import (
            account_panel,
            account_queues,
            ledger,
            panels,
            plan_queues,
            plan_views,
            plans,
            queues,
        )
        from denials.panels import register_denial_panel
        from practices.patient_panels import register as register_patient_panel
        from practices.patient_panels import register_balances

        queues.register()
        account_queues.register()
        plan_queues.register()
        ledger.register_follower(plans.follow_ledger)
        register_patient_panel("patient-balance", account_panel.patient_panel, order=20)
        register_patient_panel("payment-plan", plan_views.patient_panel, order=21)
        register_balances(account_panel.open_balances)
        register_denial_panel("remittance-lines", panels.remittance_lines, order=20)
