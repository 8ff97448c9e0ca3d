from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "clinicportal.messaging"
    label = "messaging"
