"""Framing and plugins: pages are framed by nobody, file previews by this site only."""

from __future__ import annotations

from django.urls import reverse

from clinicportal.records.models import PortalDocument
from tests.conftest import add_chart_pdf
from tests.test_records import share
from tests.test_search_online import GLAUCOMA_URL, share_topic


def policy(response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def test_office_and_portal_pages_may_be_framed_by_nobody_and_run_no_plugins(
    alice_client, ada_portal
):
    for response in (
        alice_client.get(reverse("office:patients")),
        ada_portal.get("/p/clinic-x/records/"),
    ):
        assert response.status_code == 200
        assert policy(response)["frame-ancestors"] == "'none'"
        assert policy(response)["object-src"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"


def test_the_file_views_this_site_frames_may_be_framed_by_it_alone(
    ada_portal, bob, bob_client, patient_a
):
    chart_file = add_chart_pdf(bob, patient_a)
    share(bob_client, patient_a, chart_file)
    document = PortalDocument.objects.get()
    for response in (
        bob_client.get(
            reverse("office:chart_file_inline", args=[patient_a.public_id, chart_file.public_id])
        ),
        bob_client.get(
            reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
        ),
        ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view"),
    ):
        assert response.status_code == 200
        assert policy(response)["frame-ancestors"] == "'self'"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        assert policy(response)["default-src"] == "'none'"  # no plugins either


def test_a_framed_view_s_redirect_says_the_same_as_its_files(ada_portal, bob_client, patient_a):
    # A link (a health topic) opens by a redirect from the same view: both headers agree.
    assert share_topic(bob_client, patient_a).status_code == 302
    document = PortalDocument.objects.get()
    response = ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    assert response.status_code == 302
    assert response["Location"] == GLAUCOMA_URL
    assert policy(response)["frame-ancestors"] == "'self'"
    assert policy(response)["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_office_and_portal_pages_open_no_window_another_site_can_reach(alice_client, ada_portal):
    # ASVS 3.4.8: a page this site opens, or that opens it, shares no window with another site.
    for response in (
        alice_client.get(reverse("office:patients")),
        ada_portal.get("/p/clinic-x/records/"),
        ada_portal.get("/p/clinic-x/login/"),
    ):
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
