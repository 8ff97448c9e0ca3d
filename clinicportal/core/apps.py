from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "clinicportal.core"
    label = "core"

    def ready(self) -> None:
        from clinicportal.core import logcontext

        # After the response is closed, so Django's own error line still has the request's id.
        request_finished.connect(logcontext.clear, dispatch_uid="clinicportal_log_context")
