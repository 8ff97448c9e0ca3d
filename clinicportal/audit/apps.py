from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clinicportal.audit"
    label = "audit"
