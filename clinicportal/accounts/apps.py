from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinicportal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from clinicportal.accounts.services.sessions import sessions_prune
        from clinicportal.accounts.throttle import login_failures_prune
        from clinicportal.core.session_state import ABSOLUTE_LIFETIME
        from clinicportal.core.sweep import cleanup_register

        cleanup_register(
            "login_failures",
            login_failures_prune,
            report="Forgot {count} sign-in failures older than the throttle window.",
        )
        cleanup_register(
            "sessions",
            sessions_prune,
            report=(
                f"Forgot {{count}} session rows older than {ABSOLUTE_LIFETIME // 3600} hours "
                "(the session lifetime), and the expired stored sessions."
            ),
        )
