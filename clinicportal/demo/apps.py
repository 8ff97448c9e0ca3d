from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "clinicportal.demo"
    label = "demo"
