from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "clinicportal.content"
    label = "content"

    def ready(self) -> None:
        from clinicportal.content.health import storage_check
        from clinicportal.core.health import readiness_check_register

        readiness_check_register("storage", storage_check)
