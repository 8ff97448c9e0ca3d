from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clinicportal.notifications"
    label = "notifications"
