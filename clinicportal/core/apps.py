from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "clinicportal.core"
    label = "core"

    def ready(self) -> None:
        from django.core import checks

        from clinicportal.core import logcontext
        from clinicportal.core.hosts import separate_hosts_check

        checks.register(separate_hosts_check, checks.Tags.security, deploy=True)

        # After the response is closed, so Django's own error line still has the request's id.
        request_finished.connect(logcontext.clear, dispatch_uid="clinicportal_log_context")
