from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "clinicportal.content"
    label = "content"

    def ready(self) -> None:
        from clinicportal.content.antivirus import scanner_probe
        from clinicportal.content.health import storage_check
        from clinicportal.core.health import probe_register, readiness_check_register

        readiness_check_register("storage", storage_check)
        # Its own probe: uploads are refused kindly while it is down, the pages still serve.
        probe_register("scanner", scanner_probe)
