"""Benchmark: a 1 GiB download of a patient's record from the portal, against nginx.

    make bench          # or: .venv/bin/python bench/download.py [--size-mb 1024] [--rounds 3]

Puts a 1 GiB PDF on a bench patient's portal (once; kept in var/bench-storage), starts the real
server (`gunicorn config.wsgi -w 1`, sync worker) on loopback, signs in through the portal's
login form and downloads the record from RECORDS ("/p/bench/records/<id>/download") in 1 MiB
reads, while sampling the gunicorn worker's resident memory every 20 ms. nginx serves the very
same stored file in the same run, read by the same client code, as the yardstick for
throughput. Best of --rounds for each. Goals: the worker grows by less than 32 MB, and the
download runs at half nginx's speed or better. Exits 1 when a goal is missed (or nginx is
missing: install nginx (apt-get install nginx) to compare).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    bench_portal_patient,
    bench_practice,
    portal_pdf_document,
    report,
    setup_django,
)
from http_common import (
    CHUNK,
    MB,
    Gunicorn,
    HttpClient,
    RssSampler,
    free_port,
    portal_sign_in,
    stop,
    wait_for_port,
)

GOAL_GROWTH_MB = 32.0
GOAL_RATIO = 0.5
USERNAME = "bench.download"
PASSWORD = "bench-download-password-2026"
NGINX = "/usr/sbin/nginx"


def nginx_config(*, tmp: Path, port: int, root: Path) -> Path:
    """Write a minimal nginx config serving ``root`` on loopback; return its path."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # the blob store's files are 0600
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{user}daemon off;
master_process on;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ root {root}; }}
    }}
}}
"""
    )
    return conf


def read_through(path: Path) -> None:
    """Read the file once so that both servers start from a warm page cache."""
    with path.open("rb") as handle:
        while handle.read(CHUNK):
            pass


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the record (MiB)")
    parser.add_argument("--rounds", type=int, default=3, help="downloads from each server")
    args = parser.parse_args()
    size = args.size_mb * MB

    setup_django()
    from clinicportal.content.blobstore import get_blob_store

    practice = bench_practice()
    patient = bench_portal_patient(
        practice, last_name="Download", username=USERNAME, password=PASSWORD
    )
    warm_up = portal_pdf_document(practice, patient, filename="bench-warm-up.pdf", size=MB)
    document = portal_pdf_document(
        practice, patient, filename=f"bench-download-{args.size_mb}mb.pdf", size=size
    )
    stored = get_blob_store().path(document.blob.storage_name)
    read_through(stored)
    have_nginx = shutil.which(NGINX) is not None
    if not have_nginx:
        print(f"{NGINX} not found: install nginx (apt-get install nginx) to compare", flush=True)

    portal = f"/p/{practice.slug}/records"
    gunicorn_rounds: list[float] = []
    nginx_rounds: list[float] = []
    nginx: subprocess.Popen[bytes] | None = None
    port = 0
    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with Gunicorn(log=tmp / "gunicorn.log", env={"CLINICPORTAL_X_ACCEL_PREFIX": ""}) as app:
                client = HttpClient(app.port)
                portal_sign_in(client, slug=practice.slug, username=USERNAME, password=PASSWORD)
                # The same view once on a small record: imports and connections are warm, so
                # what the sampler sees is what the large download costs.
                client.download(f"{portal}/{warm_up.public_id}/download")
                if have_nginx:
                    port = free_port()
                    conf = nginx_config(tmp=tmp, port=port, root=stored.parent)
                    nginx = subprocess.Popen(
                        [NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,  # -e: errors go to error.log
                    )
                    wait_for_port(port, nginx, tmp / "error.log", seconds=10)
                with RssSampler(app.worker_pid(), interval=0.02) as memory:
                    for _ in range(args.rounds):  # interleaved, so neither gets a warmer machine
                        got = client.download(f"{portal}/{document.public_id}/download")
                        assert got.size == size, got.size
                        gunicorn_rounds.append(got.mb_per_s)
                        if nginx is not None:
                            got = HttpClient(port).download(f"/{stored.name}")
                            assert got.size == size, got.size
                            nginx_rounds.append(got.mb_per_s)
        finally:
            stop(nginx)

    best = max(gunicorn_rounds)
    ratio = best / max(nginx_rounds) if nginx_rounds else None
    result = {
        "benchmark": "portal record download (gunicorn -w 1 sync worker vs nginx, same file)",
        "size_mb": args.size_mb,
        "rounds": args.rounds,
        "worker_rss_baseline_mb": round(memory.baseline / MB, 1),
        "worker_rss_peak_growth_mb": round(memory.growth_mb, 1),
        "rss_samples": memory.samples,
        "gunicorn_mb_per_s": round(best, 1),
        "gunicorn_rounds_mb_per_s": [round(r, 1) for r in gunicorn_rounds],
        "nginx_mb_per_s": round(max(nginx_rounds), 1) if nginx_rounds else None,
        "nginx_rounds_mb_per_s": [round(r, 1) for r in nginx_rounds],
        "ratio_to_nginx": round(ratio, 2) if ratio is not None else None,
        "goal_growth_mb": GOAL_GROWTH_MB,
        "goal_ratio_to_nginx": GOAL_RATIO,
        "met": memory.growth_mb < GOAL_GROWTH_MB and ratio is not None and ratio >= GOAL_RATIO,
    }
    report("download", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
