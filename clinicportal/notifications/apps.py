from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clinicportal.notifications"
    label = "notifications"

    def ready(self) -> None:
        from django.core import checks

        from clinicportal.core.health import probe_register
        from clinicportal.core.sweep import cleanup_register
        from clinicportal.notifications.checks import tasks_backend_check
        from clinicportal.notifications.delivery import outbox_reclaim_expired
        from clinicportal.notifications.health import worker_probe
        from clinicportal.notifications.services import outbox_forget_sent_text
        from clinicportal.notifications.worker import task_results_prune

        checks.register(tasks_backend_check)
        probe_register("worker", worker_probe)
        cleanup_register(
            "outbox_reclaim",
            outbox_reclaim_expired,
            report="Queued again {count} emails a stopped worker left sending.",
        )
        cleanup_register(
            "outbox_forget_sent_text",
            outbox_forget_sent_text,
            report="Forgot the text of {count} emails sent more than "
            "CLINICPORTAL_OUTBOX_TEXT_DAYS ago.",
        )
        cleanup_register(
            "task_results_prune",
            task_results_prune,
            report="Forgot {count} results of background tasks finished more than a week ago.",
        )
