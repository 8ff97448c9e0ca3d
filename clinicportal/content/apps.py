from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "clinicportal.content"
    label = "content"

    def ready(self) -> None:
        from django.core import checks

        from clinicportal.content.antivirus import scanner_probe
        from clinicportal.content.health import storage_check
        from clinicportal.content.system_checks import virus_scanner_check
        from clinicportal.core.health import probe_register, readiness_check_register

        checks.register(virus_scanner_check, checks.Tags.security, deploy=True)
        readiness_check_register("storage", storage_check)
        # Its own probe: uploads are refused kindly while it is down, the pages still serve.
        probe_register("scanner", scanner_probe)
