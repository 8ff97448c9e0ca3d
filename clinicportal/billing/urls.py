from django.urls import path

from clinicportal.billing import webhook_views

app_name = "billing"

urlpatterns = [
    path("webhook/<slug:practice_slug>/", webhook_views.webhook, name="webhook"),
    path(
        "webhook/<slug:practice_slug>/stripe/",
        webhook_views.stripe_webhook,
        name="stripe_webhook",
    ),
    path("test/<str:session>/", webhook_views.test_processor, name="test_processor"),
]
