from functools import partial

from django.urls import path

from clinicportal.portal import (
    account_views,
    bill_views,
    form_views,
    message_views,
    schedule_views,
    views,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("account/two-step/", account_views.two_factor_setup, name="two_factor_setup"),
    path("account/two-step/off/", account_views.two_factor_off, name="two_factor_off"),
    path("account/recovery-codes/", account_views.recovery_codes, name="recovery_codes"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.set_password, name="set_password"),
    path("choose/", views.choose_patient, name="choose_patient"),
    path("forgot/", views.forgot_password, name="forgot_password"),
    path("password/<str:token>/", views.password_link, name="password_link"),
    path("messages/", message_views.message_list, name="messages"),
    path("messages/new/", message_views.message_new, name="message_new"),
    path("messages/<uuid:conversation_id>/", message_views.conversation, name="conversation"),
    path(
        "messages/files/<uuid:attachment_id>/view",
        partial(message_views.attachment_content, download=False),
        name="message_attachment_view",
    ),
    path(
        "messages/files/<uuid:attachment_id>/download",
        partial(message_views.attachment_content, download=True),
        name="message_attachment_download",
    ),
    path("records/", views.records, name="records"),
    path("records/all.zip", views.records_zip, name="records_zip"),
    path(
        "records/<uuid:document_id>/view",
        partial(views.record_content, download=False),
        name="record_view",
    ),
    path(
        "records/<uuid:document_id>/download",
        partial(views.record_content, download=True),
        name="record_download",
    ),
    path("forms/", form_views.form_list, name="forms"),
    path("forms/<uuid:form_id>/", form_views.form_fill, name="form"),
    path("forms/submitted/<uuid:submission_id>/", form_views.submission, name="submission"),
    path("bills/", bill_views.bills, name="bills"),
    path("bills/<uuid:invoice_id>/pay/", bill_views.bill_pay, name="bill_pay"),
    path("bills/<uuid:invoice_id>/invoice.pdf", bill_views.bill_pdf, name="bill_pdf"),
    path("schedule/", schedule_views.schedule, name="schedule"),
    path("schedule/book/", schedule_views.schedule_book, name="schedule_book"),
    path("schedule/<uuid:appointment_id>/", schedule_views.appointment, name="appointment"),
    path(
        "schedule/<uuid:appointment_id>/cancel/",
        schedule_views.appointment_cancel,
        name="appointment_cancel",
    ),
    path(
        "schedule/<uuid:appointment_id>/move/",
        schedule_views.appointment_move,
        name="appointment_move",
    ),
    path("logs/", views.logs, name="logs"),
    path("account/", account_views.account, name="account"),
    path("account/sessions/<uuid:session_id>/end/", account_views.session_end, name="session_end"),
    path("account/sessions/end/", account_views.sessions_end_all, name="sessions_end_all"),
]
