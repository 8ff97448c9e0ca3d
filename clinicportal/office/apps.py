from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "clinicportal.office"
    label = "office"

    def ready(self) -> None:
        from clinicportal.core.sweep import cleanup_register
        from clinicportal.office.once import form_submissions_prune

        cleanup_register(
            "form_submissions",
            form_submissions_prune,
            report="Forgot {count} sent-form tokens older than a day.",
        )
