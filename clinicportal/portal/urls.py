from django.urls import path

from clinicportal.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.set_password, name="set_password"),
    path("choose/", views.choose_patient, name="choose_patient"),
    path("forgot/", views.forgot_password, name="forgot_password"),
    path("password/<str:token>/", views.password_link, name="password_link"),
    path("logs/", views.logs, name="logs"),
    path("account/", views.account, name="account"),
]
