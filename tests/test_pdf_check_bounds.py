"""An uploaded PDF is opened within CLINICPORTAL_PDF_CHECK_SECONDS (content/checks.py): a
crafted PDF of a few kilobytes that would keep pypdf busy for minutes is refused in seconds,
and the worker goes on."""

from __future__ import annotations

import logging
import zlib

from clinicportal.content.checks import open_problem
from clinicportal.content.models import Blob
from clinicportal.content.sniff import PDF
from clinicportal.patients.models import ChartFile
from tests.test_chart_files import named, upload


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<<%s /Length %d>>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def catalogue_behind_spaces(count: int) -> bytes:
    """A PDF whose catalogue is packed in an object stream said to hold ``count`` objects, each
    said to start in a run of ``count`` spaces: pypdf reads every object of the stream at once,
    skipping the spaces a byte at a time, for each one (``count`` squared steps)."""
    header = b" ".join(b"0 %d" % offset for offset in range(count - 1)) + b" 1 %d\n" % count
    packed = header + b" " * count + b"<</Type/Catalog /Pages 2 0 R>>"
    objects = {
        2: b"<</Type/Pages /Kids [3 0 R] /Count 1>>",
        3: b"<</Type/Page /Parent 2 0 R /MediaBox [0 0 64 48]>>",
        11: stream(
            b"/Type/ObjStm /N %d /First %d /Filter/FlateDecode" % (count, len(header)),
            zlib.compress(packed, 9),
        ),
    }
    out, rows = bytearray(b"%PDF-1.7\n"), {0: (0, 0, 0xFFFF), 1: (2, 11, count - 1)}
    for number, body in objects.items():
        rows[number] = (1, len(out), 0)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    rows[12] = (1, table, 0)
    entries = b"".join(
        bytes([kind]) + first.to_bytes(4) + second.to_bytes(2)
        for kind, first, second in (rows.get(number, (0, 0, 0)) for number in range(13))
    )
    xref = stream(b"/Type/XRef /Size 13 /W [1 4 2] /Root 1 0 R", entries)
    out += b"12 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (xref, table)
    return bytes(out)


def test_a_pdf_that_would_keep_pypdf_busy_is_refused_as_too_large(
    bob_client, patient_a, settings, caplog
):
    settings.CLINICPORTAL_PDF_CHECK_SECONDS = 1
    crafted = catalogue_behind_spaces(10_000)  # 10 s of pypdf's time, in 22 KB (more: minutes)
    assert len(crafted) < 30_000
    with caplog.at_level(logging.WARNING, logger="clinicportal.content.checks"):
        refused = upload(bob_client, patient_a, named("referral.pdf", crafted))
    assert refused.status_code == 400
    assert "“referral.pdf” is a PDF too large to check" in refused.content.decode()
    assert not ChartFile.objects.exists() and not Blob.objects.exists()
    assert "took longer to open" in caplog.text


def test_the_same_layout_small_opens_and_the_timer_is_put_back(tmp_path, settings):
    import signal

    settings.CLINICPORTAL_PDF_CHECK_SECONDS = 1
    path = tmp_path / "small.pdf"
    path.write_bytes(catalogue_behind_spaces(50))
    assert open_problem(path, PDF) is None
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
