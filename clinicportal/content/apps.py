from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "clinicportal.content"
    label = "content"
