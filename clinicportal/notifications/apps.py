from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clinicportal.notifications"
    label = "notifications"

    def ready(self) -> None:
        from clinicportal.core.health import probe_register
        from clinicportal.notifications.health import worker_probe

        probe_register("worker", worker_probe)
