from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "clinicportal.scheduling"
    label = "scheduling"
