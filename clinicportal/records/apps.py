from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "clinicportal.records"
    label = "records"
