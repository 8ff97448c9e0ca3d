"""What the benchmarks share: a PostgreSQL database of their own, Django set up on it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinicportal_bench"


def setup_django() -> None:
    """Create the benchmark database if needed, point Django at it, migrate."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    _django_up()


def setup_django_sqlite(var_dir: Path) -> None:
    """Point Django at a new SQLite file in ``var_dir`` (with the site's SQLite options), migrate.

    For smoke runs: the database, keys and stored files all live in ``var_dir``.
    """
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ["CLINICPORTAL_VAR_DIR"] = str(var_dir)
    os.environ["CLINICPORTAL_STORAGE_DIR"] = str(var_dir / "storage")
    _django_up()


def run_sized(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    *,
    small: dict[str, Any],
    prefix: str,
    run: Callable[[argparse.Namespace], int],
) -> int:
    """Set Django up and ``run(args)``: on PostgreSQL, or with ``--small`` on a throwaway SQLite
    file with ``small``'s sizes for the options left at their defaults."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not an access line for every timed request
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        if args.small:
            for name, value in small.items():
                if parser.get_default(name) == getattr(args, name):
                    setattr(args, name, value)
            setup_django_sqlite(Path(tmp))
        else:
            setup_django()
        return run(args)


def _django_up() -> None:
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLINICPORTAL_STORAGE_DIR", str(ROOT / "var" / "bench-storage"))
    # The benchmarks time this site: its passwords are not checked with a service elsewhere.
    os.environ.setdefault("CLINICPORTAL_BREACHED_PASSWORDS_URL", "off")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def bench_practice() -> Any:
    from clinicportal.practices.models import Practice
    from clinicportal.practices.services import practice_create

    practice = Practice.objects.filter(slug="bench").first()
    if practice is None:
        practice, _ = practice_create(
            name="Benchmark Eye Care",
            slug="bench",
            admin_username="bench.admin",
            admin_email="bench@example.com",
            admin_name="Bench Admin",
            admin_password="bench-admin-password-not-secret",
            admin_password_is_temporary=False,
        )
    return practice


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def report(name: str, result: dict[str, Any]) -> None:
    """Write ``result`` to bench/results/<name>.json (or to $BENCH_RESULTS_DIR) and print it."""
    out = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def bench_actor(practice: Any) -> Any:
    """Return the bench practice's admin as a StaffActor, for creating things through services."""
    from clinicportal.core.context import StaffActor
    from clinicportal.practices.models import StaffMember

    admin = StaffMember.objects.select_related("user", "practice").get(
        practice=practice, role="admin"
    )
    return StaffActor(user=admin.user, staff=admin, ip="127.0.0.1", user_agent="bench")


def bench_patient(practice: Any, *, last_name: str) -> Any:
    """Return the bench patient "Bench <last_name>", created once through the services."""
    import datetime

    from clinicportal.patients.models import Patient
    from clinicportal.patients.services import PatientDetails, patient_create

    patient = Patient.objects.filter(
        practice=practice, first_name="Bench", last_name=last_name
    ).first()
    if patient is None:
        patient = patient_create(
            actor=bench_actor(practice),
            details=PatientDetails(
                first_name="Bench", last_name=last_name, date_of_birth=datetime.date(1980, 1, 1)
            ),
        )
    return patient


def bench_portal_patient(practice: Any, *, last_name: str, username: str, password: str) -> Any:
    """Return a patient with portal access under ``username``, its password set (not temporary).

    Created once through the services, like the office would; the password is set directly so
    that sign-in goes straight to RECORDS instead of the first-sign-in password change.
    """
    from clinicportal.accounts.models import LoginFailure, PortalAccount
    from clinicportal.accounts.passwords import hash_password
    from clinicportal.accounts.services.portal_access import portal_access_issue

    actor = bench_actor(practice)
    patient = bench_patient(practice, last_name=last_name)
    account = PortalAccount.objects.filter(practice=practice, username=username).first()
    if account is None:
        account = portal_access_issue(
            actor=actor, patient=patient, username=username, password=None
        ).account
    PortalAccount.objects.filter(pk=account.pk).update(
        password=hash_password(password), password_is_temporary=False
    )
    LoginFailure.objects.all().delete()  # earlier benchmarks' wrong passwords are not an attack
    return patient


def _pdf_body(offset: int) -> bytes:
    """A one-page PDF's objects, cross-reference table and trailer, placed at ``offset``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    body = b""
    starts = []
    for number, content in enumerate(objects, start=1):
        starts.append(offset + len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = offset + len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % start for start in starts)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return body


def pdf_chunks(size: int, *, tag: str = "", chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """Yield a file of exactly ``size`` bytes that opens as a one-page PDF.

    A PDF header, comment lines as padding, then the page's objects and a cross-reference table
    that points past the padding: made a chunk at a time, never whole. ``tag`` goes in the first
    line, to make the content (and so its hash) unique.
    """
    head = f"%PDF-1.4\n% clinicportal benchmark {tag}\n".encode()
    line = b"%" + b"0123456789abcdef" * 4 + b"\n"
    pad = (line * (chunk // len(line) + 1))[:chunk]
    tail_length = len(_pdf_body(size))  # the offset's digits can only make it shorter
    remaining = size - len(head) - tail_length
    if remaining < 0:
        raise ValueError(f"a benchmark PDF needs at least {len(head) + tail_length} bytes")
    body = _pdf_body(len(head) + remaining)
    remaining += tail_length - len(body)  # pad what the shorter offset left
    body = _pdf_body(len(head) + remaining)
    yield head
    while remaining > 0:
        count = min(chunk, remaining)
        piece = pad if count == chunk else pad[:count]
        if count == remaining and not piece.endswith(b"\n"):
            piece = piece[:-1] + b"\n"  # end the last comment before the objects
        yield piece
        remaining -= count
    yield body


def portal_pdf_document(practice: Any, patient: Any, *, filename: str, size: int) -> Any:
    """Return a PDF of ``size`` bytes on the patient's portal, created once (found after).

    The content is written to the blob store's temporary folder a chunk at a time while it is
    hashed, then shared through the records service as the office's upload would be: the same
    type check, the same verified move into the store, the Blob row's size and hash right.
    """
    import datetime
    import hashlib

    from clinicportal.content.blobstore import get_blob_store
    from clinicportal.content.sniff import HEAD_BYTES
    from clinicportal.content.uploads import HashedUpload
    from clinicportal.records.models import PortalDocument
    from clinicportal.records.services import portal_document_upload

    store = get_blob_store()
    for document in PortalDocument.objects.filter(
        patient=patient, filename=filename, blob__size=size
    ).select_related("blob"):
        if document.blob is not None and store.size_matches(document.blob.storage_name, size):
            return document
    digest = hashlib.sha256()
    head = b""
    with store.new_temp_file() as handle:
        for piece in pdf_chunks(size, tag=filename):
            digest.update(piece)
            head += piece[: HEAD_BYTES - len(head)]
            handle.write(piece)
        temp_path = Path(handle.name)
    upload = HashedUpload(
        temp_path=temp_path,
        name=filename,
        size=size,
        sha256=digest.hexdigest(),
        head=head,
        too_large=False,
        content_type="application/pdf",
    )
    try:
        return portal_document_upload(
            actor=bench_actor(practice),
            patient=patient,
            upload=upload,
            document_date=datetime.date(2026, 1, 2),
            description=f"Benchmark file ({size // 1024} KiB)",
            is_education=False,
        )
    finally:
        upload.close()
