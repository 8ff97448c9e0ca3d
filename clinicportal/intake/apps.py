from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "clinicportal.intake"
    label = "intake"
