from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinicportal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from clinicportal.accounts.throttle import login_failures_prune
        from clinicportal.core.sweep import cleanup_register

        cleanup_register(
            "login_failures",
            login_failures_prune,
            report="Forgot {count} sign-in failures older than the throttle window.",
        )
