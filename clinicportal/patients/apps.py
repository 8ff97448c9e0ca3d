from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "clinicportal.patients"
    label = "patients"
