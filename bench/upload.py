"""Benchmark: a 500 MB chart file upload through the office, on the real server.

    make bench          # or: .venv/bin/python bench/upload.py [--size-mb 500]

Starts `gunicorn config.wsgi -w 1 --timeout 300` on loopback with the upload limit raised for
the run (CLINICPORTAL_UPLOAD_MAX_BYTES), signs a staff member (no two-step code) in through the
office login form, and posts a generated 500 MiB PDF to the patient's chart file upload page
as multipart/form-data, streamed from a generator so the benchmark never holds it either. The
gunicorn worker's resident memory is sampled every 20 ms. Success is checked by the redirect
and by the ChartFile row of the right size; the files are removed from the chart afterwards.
Goal: the worker grows by less than 64 MB. Exits 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_patient, bench_practice, pdf_chunks, report, setup_django
from http_common import MB, Gunicorn, HttpClient, Multipart, RssSampler, office_sign_in

GOAL_GROWTH_MB = 64.0
STAFF_USERNAME = "bench.staff"
STAFF_PASSWORD = "bench-staff-lantern-orchard-2026"


def bench_staff(practice: Any) -> list[str]:
    """Make sure the non-admin staff member exists with the bench password; return codes.

    Every staff member signs in with two steps: the member gets a new authenticator, and its
    ten recovery codes are returned, each good for one sign-in.
    """
    from clinicportal.accounts import totp, two_factor
    from clinicportal.accounts.models import LoginFailure, TwoFactorDevice, User
    from clinicportal.practices.models import StaffMember
    from clinicportal.practices.services import staff_create

    user = User.objects.filter(username=STAFF_USERNAME).first()
    if user is None:
        user = staff_create(
            practice=practice,
            username=STAFF_USERNAME,
            email="bench.staff@example.com",
            display_name="Bench Staff",
            role=StaffMember.Role.STAFF,
            password=STAFF_PASSWORD,
            password_is_temporary=False,
        ).user
    else:
        user.set_password(STAFF_PASSWORD)
        user.password_is_temporary = False
        user.save(update_fields=["password", "password_is_temporary"])
    TwoFactorDevice.objects.filter(user=user).delete()
    enrolment = two_factor.two_factor_begin(owner=user, issuer="bench", label=STAFF_USERNAME)
    codes = two_factor.two_factor_confirm(
        device=enrolment.device, code=totp.code_at(enrolment.secret, totp.current_step())
    )
    LoginFailure.objects.all().delete()
    return codes


def upload(client: HttpClient, patient_id: str, *, filename: str, size: int) -> tuple[float, float]:
    """Upload a generated PDF of ``size`` bytes to the chart; return (seconds, seconds to send)."""
    page = f"/office/patients/{patient_id}/files/upload/"
    body = Multipart(
        fields={
            "csrfmiddlewaretoken": client.csrf_token(page),
            "document_date": "2026-01-02",
            "description": "Benchmark upload",
        },
        file_field="uploads",
        filename=filename,
        file_type="application/pdf",
        file_size=size,
        file_chunks=pdf_chunks(size, tag=f"{filename} {time.time_ns()}"),
    )
    response, transfer = client.upload(
        page, content_type=body.content_type, length=len(body), chunks=body
    )
    if response.status != 302 or f"/office/patients/{patient_id}/" not in response.location:
        raise RuntimeError(
            f"upload of {filename} refused: {response.status} {response.location} "
            f"{response.body[:300]!r}"
        )
    assert transfer.sent_seconds is not None
    return transfer.seconds, transfer.sent_seconds


def remove_chart_files(patient: Any, filenames: list[str]) -> int:
    """Take the benchmark's files off the chart again, and their content off the disk."""
    from django.db import transaction

    from clinicportal.content.services import blob_release
    from clinicportal.patients.models import ChartFile

    removed = 0
    with transaction.atomic():
        for chart_file in ChartFile.objects.filter(patient=patient, filename__in=filenames):
            blob = chart_file.blob
            chart_file.delete()
            blob_release(blob)
            removed += 1
    return removed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=500, help="size of the upload (MiB)")
    parser.add_argument("--keep", action="store_true", help="leave the uploaded files in the chart")
    args = parser.parse_args()
    size = args.size_mb * MB

    setup_django()
    from clinicportal.patients.models import ChartFile

    practice = bench_practice()
    codes = bench_staff(practice)
    patient = bench_patient(practice, last_name="Upload")
    warm_up_name, big_name = "bench-warm-up.pdf", f"bench-upload-{args.size_mb}mb.pdf"
    remove_chart_files(patient, [warm_up_name, big_name])  # left over from an interrupted run
    limit = {"CLINICPORTAL_UPLOAD_MAX_BYTES": str(size + MB)}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp,
            Gunicorn(log=Path(tmp) / "gunicorn.log", env=limit, timeout=300) as app,
        ):
            client = HttpClient(app.port)
            office_sign_in(
                client, username=STAFF_USERNAME, password=STAFF_PASSWORD, code=codes.pop()
            )
            # The same view once with a small file: imports and connections are warm, so what
            # the sampler sees is what the large upload costs.
            upload(client, str(patient.public_id), filename=warm_up_name, size=MB)
            with RssSampler(app.worker_pid(), interval=0.02) as memory:
                seconds, sent_seconds = upload(
                    client, str(patient.public_id), filename=big_name, size=size
                )
        stored = ChartFile.objects.filter(
            patient=patient, filename=big_name, blob__size=size
        ).count()
    finally:
        if not args.keep:
            remove_chart_files(patient, [warm_up_name, big_name])

    result = {
        "benchmark": "office chart file upload (gunicorn -w 1 sync worker, multipart)",
        "size_mb": args.size_mb,
        "upload_limit_bytes": size + MB,
        "worker_rss_baseline_mb": round(memory.baseline / MB, 1),
        "worker_rss_peak_growth_mb": round(memory.growth_mb, 1),
        "rss_samples": memory.samples,
        "seconds": round(seconds, 2),
        "upload_mb_per_s": round(size / MB / seconds, 1),
        "send_mb_per_s": round(size / MB / sent_seconds, 1),
        "chart_file_stored": stored == 1,
        "goal_growth_mb": GOAL_GROWTH_MB,
        "met": stored == 1 and memory.growth_mb < GOAL_GROWTH_MB,
    }
    report("upload", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
