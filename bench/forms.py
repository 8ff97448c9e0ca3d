"""Benchmark: a 60-field form submitted and filed as a PDF; the office's list of submissions.

    .venv/bin/python bench/forms.py [--rebuild] [--rounds N] [--only submit|list]
    .venv/bin/python bench/forms.py --small      # a smoke run on a throwaway SQLite file

On PostgreSQL (BENCH_DATABASE_URL, created if missing; default `clinicportal_bench`), a practice
of its own ("bench-forms") gets a 60-field form (every kind of field, a signature last).

- submit: a patient's whole submission through ``intake.services.submission_submit``, as the
  portal's Submit does: every answer checked, the PDF made (WeasyPrint), stored among the chart
  files, the submission, task and audit row written. One patient a round, each assigned the
  form. Goal: p95 < 1 s.
- list: --submissions submitted forms (written with bulk_create, reused while the count
  matches), and the office's list of submissions (`office:submissions`) on its first page and a
  page deep into it, through the test Client, once that page exists. Goal: one query count.

Writes bench/results/forms.json (forms_small.json with --small); exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Any

from common import bench_actor, report, run_sized
from messages import Timing, measure, verdict

GOAL_SUBMIT_P95_MS = 1_000.0
SMALL = {"submissions": 500, "rounds": 3}
SLUG = "bench-forms"
PARTS = ("submit", "list")


def sixty_fields() -> tuple[list[Any], dict[str, Any]]:
    """A 60-field form of every kind, and a full set of answers to it as a browser posts them."""
    from clinicportal.intake import fields as kinds
    from clinicportal.intake.fields import Field

    fields: list[Field] = []
    posted: dict[str, Any] = {}
    cycle = [
        kinds.HEADING,
        kinds.SHORT_TEXT,
        kinds.LONG_TEXT,
        kinds.DATE,
        kinds.NUMBER,
        kinds.YES_NO,
        kinds.SINGLE,
        kinds.MULTIPLE,
        kinds.HELP,
        kinds.SHORT_TEXT,
    ]
    choices = ("Never", "Sometimes", "Often", "Always")
    for n in range(59):
        kind = cycle[n % len(cycle)]
        key = f"q{n:02d}"
        label = f"Question {n + 1}: how is your {['left', 'right'][n % 2]} eye?"
        field = Field(
            key,
            kind,
            label,
            help="Answer as best you can." if n % 3 == 0 else "",
            choices=choices if kind in kinds.WITH_CHOICES else (),
        )
        fields.append(field)
        name = f"f-{key}"
        if kind in (kinds.SHORT_TEXT,):
            posted[name] = f"Answer {n} <b>as typed</b>"
        elif kind == kinds.LONG_TEXT:
            posted[name] = "Line one of a longer answer.\nLine two, with more detail. " * 3
        elif kind == kinds.DATE:
            posted[name] = "03/14/1980"
        elif kind == kinds.NUMBER:
            posted[name] = str(n / 4)
        elif kind == kinds.YES_NO:
            posted[name] = "yes"
        elif kind == kinds.SINGLE:
            posted[name] = choices[n % 4]
        elif kind == kinds.MULTIPLE:
            posted[name] = [choices[0], choices[2]]
    fields.append(Field("sign", kinds.SIGNATURE, "Signature", required=True))
    posted["f-sign"] = "Bench Patient"
    posted["f-sign-agree"] = "on"
    return fields, posted


class Posted(dict[str, Any]):
    def getlist(self, name: str) -> list[Any]:
        value = self.get(name, [])
        return value if isinstance(value, list) else [value]


def the_form(admin: Any) -> Any:
    from clinicportal.intake.models import Form
    from clinicportal.intake.services import form_create, form_fields_save

    practice = admin.practice
    found = Form.objects.filter(practice=practice, name="Sixty questions").first()
    if found is None:
        found = form_create(actor=admin, name="Sixty questions", kind=Form.Kind.HISTORY)
        form_fields_save(actor=admin, form=found, fields=sixty_fields()[0])
    return found


def bench_forms_practice() -> tuple[Any, Any]:
    """The forms practice and its admin (as a StaffActor), with Forms on."""
    from clinicportal.practices.models import Practice

    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        from clinicportal.practices.services import practice_create

        practice, _ = practice_create(
            name="Benchmark Forms Eye Care",
            slug=SLUG,
            admin_username="bench.forms.admin",
            admin_email="forms@example.com",
            admin_name="Forms Admin",
            admin_password="bench-forms-password-not-secret",
            admin_password_is_temporary=False,
        )
    Practice.objects.filter(pk=practice.pk).update(forms_enabled=True)
    practice.refresh_from_db()
    return practice, bench_actor(practice)


def measure_submit(admin: Any, form: Any, rounds: int) -> tuple[Timing, dict[str, Any]]:
    from clinicportal.accounts.services.portal_access import portal_access_issue
    from clinicportal.core.context import PortalActor
    from clinicportal.intake.models import Submission
    from clinicportal.intake.services import form_assign, submission_submit
    from clinicportal.patients.models import Patient

    _fields, posted = sixty_fields()
    count = rounds + max(2, rounds // 10) + 1
    actors = []
    stamp = datetime.datetime.now().strftime("%H%M%S%f")
    for n in range(count):
        patient = Patient.objects.create(
            practice=admin.practice,
            first_name=f"Form{n}",
            last_name=f"Bench{stamp}",
            date_of_birth=datetime.date(1980, 3, 14),
        )
        issued = portal_access_issue(
            actor=admin, patient=patient, username=f"fb{stamp}{n}", password=None
        )
        form_assign(actor=admin, form=form, patient=patient)
        actors.append(PortalActor(account=issued.account, patient=patient))
    queue = iter(actors)
    made: list[Any] = []

    def submit() -> None:
        submission = submission_submit(
            actor=next(queue), form=form, version_number=1, posted=Posted(posted)
        )
        made.append(submission)

    timing = measure("submit a 60-field form, PDF filed", submit, rounds)
    last: Submission = made[-1]
    return timing, {
        "pdf_filed": last.chart_file_id is not None,
        "pdf_error": last.pdf_error,
        "answers": len(last.answers),
    }


def measure_list(
    admin: Any, form: Any, submissions: int, rebuild: bool, rounds: int
) -> tuple[list[Timing], str]:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from clinicportal.intake.models import Submission

    try:
        path = reverse("office:submissions")
    except NoReverseMatch:
        return [], "office:submissions is not built yet"
    have = Submission.objects.filter(form=form, status="submitted").count()
    if rebuild or have < submissions:
        _fill(admin, form, submissions - have)
    client = Client()
    client.force_login(admin.user)
    first = client.get(path)
    if first.status_code != 200:
        return [], f"office:submissions answered {first.status_code}"
    deep = _deep_link(client, path, pages=20)

    def get(url: str) -> Any:
        def call() -> None:
            assert client.get(url).status_code == 200

        return call

    timings = [measure("office:submissions first page", get(path), rounds)]
    if deep:
        timings.append(measure("office:submissions 20 pages in", get(deep), rounds))
    return timings, "measured"


def _deep_link(client: Any, path: str, pages: int) -> str:
    """Follow the list's own "Next" link ``pages`` times; return that page's address."""
    import re

    url = path
    for _ in range(pages):
        html = client.get(url).content.decode()
        found = re.search(
            r'<a[^>]+href="([^"]+)"[^>]*rel="next"|rel="next"[^>]*href="([^"]+)"', html
        )
        if not found:
            found = re.search(r'href="([^"]+)"[^>]*>\s*Next', html)
        if not found:
            return url if url != path else ""
        url = (found.group(1) or found.group(2)).replace("&amp;", "&")
        if url.startswith("?"):
            url = path + url
    return url


def _fill(admin: Any, form: Any, count: int) -> None:
    """Submitted forms by bulk_create, spread over a year, among 2 000 patients."""
    import random

    from django.db import transaction
    from django.utils import timezone

    from clinicportal.accounts.models import PortalAccount
    from clinicportal.intake.models import Submission
    from clinicportal.intake.services import current_version
    from clinicportal.patients.models import Patient

    if count <= 0:
        return
    version = current_version(form)
    practice = admin.practice
    patients = list(Patient.objects.filter(practice=practice)[:2000])
    while len(patients) < 50:
        patients.append(
            Patient.objects.create(
                practice=practice,
                first_name=f"List{len(patients)}",
                last_name="Bench",
                date_of_birth=datetime.date(1970, 1, 1),
            )
        )
    account = PortalAccount.objects.filter(practice=practice).first()
    if account is None:
        raise SystemExit("run the submit part once first: it makes the portal accounts")
    chooser = random.Random(15)
    now = timezone.now()
    with transaction.atomic():
        Submission.objects.bulk_create(
            (
                Submission(
                    practice=practice,
                    patient=chooser.choice(patients),
                    form=form,
                    version=version,
                    status="submitted",
                    answers={"q01": "bench"},
                    started_by=account,
                    submitted_by=account,
                    submitted_by_name="Bench Patient",
                    submitted_at=now - datetime.timedelta(minutes=chooser.randint(0, 525_600)),
                )
                for _ in range(count)
            ),
            batch_size=5_000,
        )


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    _practice, admin = bench_forms_practice()
    form = the_form(admin)
    parts = args.only or list(PARTS)
    result: dict[str, Any] = {"database": connection.vendor, "goals": {}}
    met = True
    if "submit" in parts:
        timing, made = measure_submit(admin, form, args.rounds)
        ok = timing.p95 < GOAL_SUBMIT_P95_MS
        met &= ok
        result["submit"] = {**timing.result(), **made}
        result["goals"]["submit_p95_under_1s"] = ok
        print(
            f"  {timing.name:<40} p50 {timing.p50:7.1f} ms  p95 {timing.p95:7.1f} ms  {verdict(ok)}"
        )
    if "list" in parts:
        timings, state = measure_list(admin, form, args.submissions, args.rebuild, args.rounds)
        result["list_state"] = state
        result["list"] = {t.name: t.result() for t in timings}
        if len(timings) == 2:
            ok = timings[0].queries == timings[1].queries
            met &= ok
            result["goals"]["list_query_count_constant"] = ok
            for t in timings:
                print(
                    f"  {t.name:<40} p50 {t.p50:7.1f} ms  p95 {t.p95:7.1f} ms  {t.queries} queries"
                )
            print(f"  constant queries: {verdict(ok)}")
        else:
            print(f"  list: {state}")
    report("forms_small" if args.small else "forms", result)
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20, help="timed calls each")
    parser.add_argument("--only", action="append", choices=PARTS, help="measure only this part")
    parser.add_argument("--rebuild", action="store_true", help="add the submissions again")
    parser.add_argument(
        "--small", action="store_true", help="a smoke run: small sizes, a throwaway SQLite file"
    )
    args = parser.parse_args()
    return run_sized(parser, args, small=SMALL, prefix="bench-forms-", run=run)


if __name__ == "__main__":
    sys.exit(main())
