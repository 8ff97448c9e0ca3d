from functools import partial

from django.urls import path

from clinicportal.office import views

app_name = "office"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("login/two-step/", views.login_setup, name="login_setup"),
    path("logout/", views.logout_view, name="logout"),
    path("account/", views.my_account, name="account"),
    path("account/two-step/", views.my_two_factor_setup, name="account_two_factor"),
    path("patients/", views.patient_list, name="patients"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", views.patient_detail, name="patient"),
    path("patients/<uuid:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path(
        "patients/<uuid:patient_id>/files/upload/",
        views.chart_file_upload,
        name="chart_file_upload",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/",
        views.chart_file_preview,
        name="chart_file_preview",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/inline",
        partial(views.chart_file_content, download=False),
        name="chart_file_inline",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/download",
        partial(views.chart_file_content, download=True),
        name="chart_file_download",
    ),
    path("patients/<uuid:patient_id>/portal/access/", views.portal_access, name="portal_access"),
    path(
        "patients/<uuid:patient_id>/portal/authorized/new/",
        views.authorized_user_add,
        name="authorized_user_add",
    ),
    path(
        "patients/<uuid:patient_id>/portal/authorized/link/",
        views.authorized_user_link,
        name="authorized_user_link",
    ),
    path(
        "patients/<uuid:patient_id>/portal/authorized/<uuid:grant_id>/remove/",
        views.authorized_user_remove,
        name="authorized_user_remove",
    ),
    path(
        "patients/<uuid:patient_id>/portal/email/",
        views.portal_access_email,
        name="portal_access_email",
    ),
    path(
        "patients/<uuid:patient_id>/files/<uuid:file_id>/share/",
        views.portal_document_share,
        name="portal_document_share",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/upload/",
        views.portal_document_upload,
        name="portal_document_upload",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/<uuid:document_id>/",
        views.portal_document_content,
        name="portal_document",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/remove/",
        views.portal_document_remove_choose,
        name="portal_document_remove_choose",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/<uuid:document_id>/remove/",
        views.portal_document_remove,
        name="portal_document_remove",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/assign-system/",
        views.portal_document_assign_system,
        name="portal_document_assign_system",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/assign-other/",
        views.portal_document_assign_other,
        name="portal_document_assign_other",
    ),
    path(
        "patients/<uuid:patient_id>/portal/documents/search-online/",
        views.portal_document_search_online,
        name="portal_document_search_online",
    ),
    path("settings/website/library/", views.library_add, name="settings_library_add"),
    path(
        "settings/website/library/<uuid:document_id>/replace/",
        views.library_replace,
        name="settings_library_replace",
    ),
    path(
        "settings/website/library/<uuid:document_id>/retire/",
        views.library_retire,
        name="settings_library_retire",
    ),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<uuid:email_id>/", views.outbox_email, name="outbox_email"),
    path("settings/email/", views.settings_email, name="settings_email"),
    path("settings/api-keys/", views.settings_api_keys, name="settings_api_keys"),
    path(
        "settings/api-keys/<uuid:key_id>/revoke/",
        views.api_key_revoke,
        name="api_key_revoke",
    ),
    path("tasks/", views.tasks, name="tasks"),
    path("billing/", views.billing, name="billing"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/website/", views.settings_website, name="settings_website"),
]
