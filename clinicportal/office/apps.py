from django.apps import AppConfig


class OfficeConfig(AppConfig):
    name = "clinicportal.office"
    label = "office"
