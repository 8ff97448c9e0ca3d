from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "clinicportal.portal"
    label = "portal"
