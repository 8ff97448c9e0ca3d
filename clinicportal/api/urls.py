from django.urls import path

from clinicportal.api import views

app_name = "api"

urlpatterns = [
    path("openapi.json", views.openapi_document, name="openapi"),
    path(
        "patients/<str:patient_id>/portal-documents",
        views.portal_documents,
        name="portal_documents",
    ),
]
