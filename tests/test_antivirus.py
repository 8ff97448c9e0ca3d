"""Every upload is scanned by a real clamd before it is kept (ASVS 5.4.3), when scanning is on:
what it finds is refused, and so is what it cannot scan; nothing of either is kept."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from clinicportal.content.antivirus import scan_file
from clinicportal.content.models import Blob
from clinicportal.patients.models import ChartFile
from tests.clamd import FOUND_AS, MARKER
from tests.conftest import PDF_BYTES, free_port
from tests.test_chart_files import named, upload
from tests.test_portal_messages import field_error, nothing_written, send

# A PDF that opens, with the test signature in a comment: only the scanner refuses it.
INFECTED_PDF = PDF_BYTES + b"%" + MARKER + b"\n"


def test_the_scanner_finds_the_signature_and_passes_a_clean_file(clamd, tmp_path):
    infected, clean = tmp_path / "infected.pdf", tmp_path / "clean.pdf"
    infected.write_bytes(INFECTED_PDF)
    clean.write_bytes(PDF_BYTES)
    assert scan_file(infected) == FOUND_AS
    assert scan_file(clean) is None


def test_staff_cannot_put_an_infected_file_in_a_chart(clamd, bob_client, patient_a, caplog):
    with caplog.at_level(logging.WARNING, logger="clinicportal.content.services"):
        refused = upload(bob_client, patient_a, named("referral.pdf", INFECTED_PDF))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "“referral.pdf” was refused: the virus scanner found something harmful" in page
    assert FOUND_AS in page
    assert not ChartFile.objects.exists() and not Blob.objects.exists()
    assert FOUND_AS in caplog.text and "referral.pdf" not in caplog.text  # no names in logs
    kept = upload(bob_client, patient_a, named("referral.pdf", PDF_BYTES))
    assert kept.status_code == 302 and ChartFile.objects.count() == 1  # scanned, clean


def test_a_patients_infected_attachment_sends_nothing(clamd, ada_portal, settings):
    response = send(ada_portal, attachments=[named("scan.pdf", INFECTED_PDF)])
    assert response.status_code == 400
    assert "virus scanner found something harmful" in field_error(
        response.content.decode(), "attachments"
    )
    nothing_written()


def test_a_scanner_that_cannot_answer_keeps_nothing(settings, bob_client, patient_a, caplog):
    settings.CLINICPORTAL_CLAMD = f"127.0.0.1:{free_port()}"  # on, but nothing listens
    settings.CLINICPORTAL_CLAMD_TIMEOUT = 2
    with caplog.at_level(logging.ERROR, logger="clinicportal.content.services"):
        refused = upload(bob_client, patient_a, named("referral.pdf", PDF_BYTES))
    assert refused.status_code == 400
    assert "could not be checked for viruses just now, so it was not kept" in (
        refused.content.decode()
    )
    assert not ChartFile.objects.exists() and not Blob.objects.exists()
    assert "the virus scanner could not scan it" in caplog.text


def test_the_scanner_probe_says_off_ok_or_unreachable(settings, clamd, client: Client):
    assert client.get("/readyz/scanner").json() == {"status": "ok", "scanner": "ok"}
    settings.CLINICPORTAL_CLAMD = f"127.0.0.1:{free_port()}"
    down = client.get("/readyz/scanner")
    assert down.status_code == 503 and down.json()["scanner"] == "unreachable"
    settings.CLINICPORTAL_CLAMD = ""
    assert client.get("/readyz/scanner").json() == {"status": "ok", "scanner": "off"}


@pytest.mark.parametrize("value", ["/run/clamav/clamd.ctl", "127.0.0.1:3310", "clamav:3310", ""])
def test_the_setting_is_a_socket_path_or_host_and_port(monkeypatch, value):
    from config.env import env_socket

    monkeypatch.setenv("CLINICPORTAL_CLAMD", value)
    assert env_socket("CLINICPORTAL_CLAMD") == value


@pytest.mark.parametrize("value", ["off", " OFF "])
def test_the_setting_is_off_as_the_breached_passwords_one_is(monkeypatch, value):
    from config.env import env_socket

    monkeypatch.setenv("CLINICPORTAL_CLAMD", value)
    assert env_socket("CLINICPORTAL_CLAMD") == ""


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_a_file_is_scanned(
    clamd, monkeypatch, ada_portal, bob_client, alice, patient_a
):
    """A scan may take seconds: on SQLite an open transaction holds the database's one write
    lock, on PostgreSQL a connection idles in it. Every upload is scanned before its writes."""
    from django.db import connection

    from clinicportal.accounts.services.api_keys import api_key_create
    from clinicportal.content import services
    from tests.conftest import actor
    from tests.test_api import post

    in_transaction: list[bool] = []

    def watched(path):
        in_transaction.append(connection.in_atomic_block)
        return scan_file(path)

    monkeypatch.setattr(services, "scan_file", watched)
    assert send(ada_portal, attachments=[named("scan.pdf", PDF_BYTES)]).status_code == 302
    assert upload(bob_client, patient_a, named("referral.pdf", PDF_BYTES)).status_code == 302
    key = api_key_create(actor=actor(alice), name="Printer")[1]
    assert post(patient_a, key, name="rx.pdf", idempotency_key="").status_code == 201
    assert len(in_transaction) == 3 and not any(in_transaction), in_transaction


def test_a_file_over_the_scanners_limit_is_refused_as_too_large(
    settings, tmp_path, bob_client, patient_a, caplog
):
    """clamd's StreamMaxLength lower than the upload limit: it hangs up mid-file, saying why;
    trying again would not help, so the refusal says to send a smaller file."""
    from tests.clamd import require_clamd, running_clamd

    require_clamd()
    with running_clamd(tmp_path, stream_max="1K") as sock:
        settings.CLINICPORTAL_CLAMD = str(sock)
        big = PDF_BYTES + b"%" + b"x" * 4096 + b"\n"
        with caplog.at_level(logging.ERROR, logger="clinicportal.content.services"):
            refused = upload(bob_client, patient_a, named("big.pdf", big))
    assert refused.status_code == 400
    assert "“big.pdf” is larger than the virus scanner can check" in refused.content.decode()
    assert not ChartFile.objects.exists() and not Blob.objects.exists()
    assert "larger than the virus scanner takes" in caplog.text


def test_a_scanner_whose_name_does_not_resolve_in_time_keeps_nothing(
    settings, bob_client, patient_a, monkeypatch
):
    import socket
    import threading

    from clinicportal.content import antivirus

    # A name server that does not answer is outside this machine: the lookup waits on it,
    # until the test ends. The upload and the probe must not wait for it.
    answer, answered = threading.Event(), []
    looked_up = socket.getaddrinfo

    def unanswered(host, *args, **kwargs):
        if host == "clamav.example":
            answer.wait(60)
            answered.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return looked_up(host, *args, **kwargs)

    monkeypatch.setattr(antivirus.socket, "getaddrinfo", unanswered)
    settings.CLINICPORTAL_CLAMD = "clamav.example:3310"
    settings.CLINICPORTAL_CLAMD_TIMEOUT = 1
    try:
        refused = upload(bob_client, patient_a, named("referral.pdf", PDF_BYTES))
        probe = Client().get("/readyz/scanner")
        assert not answered  # both gave up before the name server answered
    finally:
        answer.set()
    assert refused.status_code == 400
    assert "could not be checked for viruses just now" in refused.content.decode()
    assert not ChartFile.objects.exists() and not Blob.objects.exists()
    assert probe.status_code == 503
