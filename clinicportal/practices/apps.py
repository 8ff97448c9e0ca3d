from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "clinicportal.practices"
    label = "practices"
