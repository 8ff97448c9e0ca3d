from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinicportal.accounts"
    label = "accounts"
