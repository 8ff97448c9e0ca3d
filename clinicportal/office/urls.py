from functools import partial

from django.urls import path

from clinicportal.office.views import (
    admin,
    chart_files,
    invoices,
    messages,
    outbox,
    password,
    patients,
    portal_access,
    portal_documents,
    settings_messages,
    sign_in,
    staff,
    tasks,
)

app_name = "office"

urlpatterns = [
    path("", patients.home, name="home"),
    path("login/", sign_in.StaffLoginView.as_view(), name="login"),
    path("login/code/", sign_in.login_code, name="login_code"),
    path("login/two-step/", sign_in.login_setup, name="login_setup"),
    path("logout/", sign_in.logout_view, name="logout"),
    path("account/", sign_in.my_account, name="account"),
    path("account/two-step/", sign_in.my_two_factor_setup, name="account_two_factor"),
    path("account/sessions/<uuid:session_id>/end/", sign_in.session_end, name="session_end"),
    path("account/sessions/end/", sign_in.sessions_end_all, name="sessions_end_all"),
    path("account/password/", password.my_password, name="account_password"),
    path("account/recovery-codes/", sign_in.my_recovery_codes, name="account_recovery_codes"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", patients.patient_detail, name="patient"),
    path("patients/<uuid:patient_id>/edit/", patients.patient_edit, name="patient_edit"),
    path(
        "patients/<uuid:patient_id>/files/upload/",
        chart_files.chart_file_upload,
        name="chart_file_upload",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/",
        chart_files.chart_file_preview,
        name="chart_file_preview",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/inline",
        partial(chart_files.chart_file_content, download=False),
        name="chart_file_inline",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/download",
        partial(chart_files.chart_file_content, download=True),
        name="chart_file_download",
    ),
    path(
        "patients/<uuid:patient_id>/portal/access/",
        portal_access.portal_access,
        name="portal_access",
    ),
    path(
        "patients/<uuid:patient_id>/portal/authorized/new/",
        portal_access.authorized_user_add,
        name="authorized_user_add",
    ),
    path(
        "patients/<uuid:patient_id>/portal/authorized/link/",
        portal_access.authorized_user_link,
        name="authorized_user_link",
    ),
    path(
        "patients/<uuid:patient_id>/portal/authorized/<uuid:grant_id>/remove/",
        portal_access.authorized_user_remove,
        name="authorized_user_remove",
    ),
    path(
        "patients/<uuid:patient_id>/portal/email/",
        portal_access.portal_access_email,
        name="portal_access_email",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/share/",
        portal_documents.portal_document_share,
        name="portal_document_share",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/upload/",
        portal_documents.portal_document_upload,
        name="portal_document_upload",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/<uuid:document_id>/",
        portal_documents.portal_document_content,
        name="portal_document",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/remove/",
        portal_documents.portal_document_remove_choose,
        name="portal_document_remove_choose",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/<uuid:document_id>/remove/",
        portal_documents.portal_document_remove,
        name="portal_document_remove",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/assign-system/",
        portal_documents.portal_document_assign_system,
        name="portal_document_assign_system",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/assign-other/",
        portal_documents.portal_document_assign_other,
        name="portal_document_assign_other",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/search-online/",
        portal_documents.portal_document_search_online,
        name="portal_document_search_online",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/<uuid:document_id>/save-to-chart/",
        portal_documents.portal_document_save_to_chart,
        name="portal_document_save_to_chart",
    ),
    path(
        "patients/<uuid:patient_id>/messages/",
        messages.patient_messages,
        name="patient_messages",
    ),
    path("patients/<uuid:patient_id>/messages/new/", messages.message_new, name="message_new"),
    path(
        "patients/<uuid:patient_id>/messages/<uuid:conversation_id>/",
        messages.conversation,
        name="conversation",
    ),
    path(
        "patients/<uuid:patient_id>/messages/log/<uuid:message_id>/",
        messages.message_log_view,
        name="message_log",
    ),
    path(
        "patients/<uuid:patient_id>/messages/files/<uuid:attachment_id>/inline",
        partial(messages.message_attachment_content, download=False),
        name="message_attachment_inline",
    ),
    path(
        "patients/<uuid:patient_id>/messages/files/<uuid:attachment_id>/download",
        partial(messages.message_attachment_content, download=True),
        name="message_attachment_download",
    ),
    path("settings/website/library/", admin.library_add, name="settings_library_add"),
    path(
        "settings/website/library/<uuid:document_id>/replace/",
        admin.library_replace,
        name="settings_library_replace",
    ),
    path(
        "settings/website/library/<uuid:document_id>/retire/",
        admin.library_retire,
        name="settings_library_retire",
    ),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<uuid:email_id>/", outbox.outbox_email, name="outbox_email"),
    path(
        "outbox/<uuid:email_id>/send-again/",
        outbox.outbox_email_send_again,
        name="outbox_email_send_again",
    ),
    path("settings/email/", admin.settings_email, name="settings_email"),
    path("settings/messages/", settings_messages.settings_messages, name="settings_messages"),
    path("settings/api-keys/", admin.settings_api_keys, name="settings_api_keys"),
    path(
        "settings/api-keys/<uuid:key_id>/revoke/",
        admin.api_key_revoke,
        name="api_key_revoke",
    ),
    path("settings/staff/", staff.settings_staff, name="settings_staff"),
    path("settings/staff/sign-out/", staff.staff_sign_out_all, name="settings_staff_sign_out_all"),
    path(
        "settings/staff/<uuid:staff_id>/sign-out/",
        staff.staff_sign_out,
        name="settings_staff_sign_out",
    ),
    path("settings/portal/sign-out/", staff.portal_sign_out_all, name="settings_portal_sign_out"),
    path("tasks/", tasks.tasks, name="tasks"),
    path("tasks/<uuid:task_id>/", tasks.task_detail, name="task"),
    path("tasks/<uuid:task_id>/sign-off/", tasks.task_sign_off, name="task_sign_off"),
    path("tasks/<uuid:task_id>/reopen/", tasks.task_reopen, name="task_reopen"),
    path("billing/", invoices.billing, name="billing"),
    path("billing/payments/", invoices.payments_day, name="payments_day"),
    path("patients/<uuid:patient_id>/invoices/new/", invoices.invoice_new, name="invoice_new"),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/",
        invoices.invoice,
        name="invoice",
    ),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/edit/",
        invoices.invoice_edit,
        name="invoice_edit",
    ),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/finalize/",
        invoices.invoice_finalize,
        name="invoice_finalize",
    ),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/void/",
        invoices.invoice_void,
        name="invoice_void",
    ),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/adjust/",
        invoices.invoice_adjust,
        name="invoice_adjust",
    ),
    path(
        "patients/<uuid:patient_id>/invoices/<uuid:invoice_id>/payments/new/",
        invoices.invoice_payment,
        name="invoice_payment",
    ),
    path("settings/", admin.settings_index, name="settings"),
    path("settings/website/", admin.settings_website, name="settings_website"),
]
