from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "clinicportal.office"
    label = "office"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from clinicportal.core.sweep import cleanup_register
        from clinicportal.office.auth import session_begin
        from clinicportal.office.once import form_submissions_prune

        # Office staff are the only users django's login signs in (the portal has its own).
        user_logged_in.connect(session_begin, dispatch_uid="office_session_begin")

        cleanup_register(
            "form_submissions",
            form_submissions_prune,
            report="Forgot {count} sent-form tokens older than a day.",
        )
