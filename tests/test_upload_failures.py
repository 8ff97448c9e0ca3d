"""Uploads that fail part way leave nothing behind, and say so in plain words."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.content.models import Blob
from tests.conftest import PDF_BYTES, login
from tests.upload_faults import csrf_token, cut_off_post, left_in_tmp

BIG_PDF = PDF_BYTES + b"%" + b"0" * (300 * 1024)  # several chunks of the upload handler


def named(name: str, data: bytes):
    import io

    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def browser_like(bob) -> Client:
    """Bob's client, checking CSRF tokens as the site does for browsers: the body is then read
    by the CSRF middleware, before any view runs."""
    return login(Client(enforce_csrf_checks=True, raise_request_exception=False), bob)


def test_a_connection_lost_mid_upload_leaves_no_partial_file(browser_like, patient_a):
    url = reverse("office:chart_file_upload", args=[patient_a.public_id])
    data = {
        "csrfmiddlewaretoken": csrf_token(browser_like, url),
        "uploads": named("scan.pdf", BIG_PDF),
        "document_date": "2026-11-20",
        "description": "Field test",
    }
    cut_off_post(browser_like, url, data, cut=len(BIG_PDF) // 2)
    assert left_in_tmp() == []
    assert not Blob.objects.exists()
