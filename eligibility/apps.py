from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "eligibility"

    def ready(self) -> None:
        from claims import scrubber  # the app registry is ready only now
        from eligibility import queues
        from eligibility.check_rules import inactive_at_verification

        queues.register()
        scrubber.register_rule(inactive_at_verification)
        # Prior authorizations and recare (their types, queues, scrub rule, beat tasks).
        from eligibility import auth_queues, auth_tasks, recare_queues  # noqa: F401
        from eligibility.authorizations import missing_prior_authorization

        auth_queues.register()
        recare_queues.register()
        scrubber.register_rule(missing_prior_authorization)
