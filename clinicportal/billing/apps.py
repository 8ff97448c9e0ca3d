from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clinicportal.billing"
    label = "billing"
