from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "clinicportal.core"
    label = "core"
