"""Every word a page shows comes out of a catalogue: rendered in a pseudo-language, none is left.

The test builds a throwaway language "xx" from the committed English catalogue (and Django's
own), in which every translation is the English text in ⟦ ⟧, compiles it with msgfmt, and asks
for it with Accept-Language as a browser would. Then it renders the main pages of both sides
as their users, and a few error flows, and fails on visible text outside ⟦ ⟧ that is not the
fixture's own data (names, usernames, filenames, the practice's name and address, dates).

A string a Python module or a template shows without gettext or {% translate %} shows up
here, and so does a new string missing from the committed catalogue (run makemessages);
tests/test_translations.py finds untranslated template text from the source instead.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import django
import pytest
from asgiref.local import Local
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from clinicportal.notifications.delivery import outbox_send_due
from clinicportal.notifications.models import OutboxEmail
from clinicportal.notifications.services import email_queue
from clinicportal.records.services import portal_document_share_chart_file
from tests.conftest import NEW_PASSWORD, actor, add_chart_pdf, login

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [
    ROOT / "clinicportal" / "locale" / "en" / "LC_MESSAGES" / "django.po",
    *(
        Path(django.__file__).parent / part / "locale" / "en" / "LC_MESSAGES" / "django.po"
        for part in ("conf", "contrib/auth", "contrib/humanize")
    ),
]
OPEN, CLOSE = "⟦", "⟧"
PO_STRING = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)?\s*"(.*)"$')


def po_entries(text: str) -> dict[tuple[str, str], str]:
    """Read a .po file's entries as {(msgctxt, msgid): msgid_plural}, strings still escaped."""
    entries: dict[tuple[str, str], str] = {}
    fields: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if fields.get("msgid"):
            entries[(fields.get("msgctxt", ""), fields["msgid"])] = fields.get("msgid_plural", "")
        fields.clear()

    for line in text.splitlines():
        if line.startswith("#"):  # comments, flags, and obsolete (#~) entries
            continue
        match = PO_STRING.match(line.strip())
        if match is None:
            flush()
            continue
        if match[1] == "msgctxt" or (match[1] == "msgid" and "msgstr" in fields):
            flush()
        if match[1]:  # a keyword line; a bare string continues the last keyword's
            key = match[1].split("[")[0]
        fields[key] = fields.get(key, "") + match[2]
    flush()
    return entries


def pseudo_po(entries: dict[tuple[str, str], str]) -> str:
    """A catalogue in which each translation is its English text in ⟦ ⟧."""
    out = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Language: xx\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
        "",
    ]
    for (context, msgid), plural in entries.items():
        if context:
            out.append(f'msgctxt "{context}"')
        out.append(f'msgid "{msgid}"')
        if plural:
            out.append(f'msgid_plural "{plural}"')
            out.append(f'msgstr[0] "{OPEN}{msgid}{CLOSE}"')
            out.append(f'msgstr[1] "{OPEN}{plural}{CLOSE}"')
        else:
            out.append(f'msgstr "{OPEN}{msgid}{CLOSE}"')
        out.append("")
    return "\n".join(out)


@pytest.fixture(scope="module")
def pseudo_locale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt (GNU gettext) is needed: apt-get install gettext")
    entries: dict[tuple[str, str], str] = {}
    for catalogue in CATALOGUES:
        entries.update(po_entries(catalogue.read_text()))
    assert len(entries) > 1000
    root = tmp_path_factory.mktemp("locale")
    folder = root / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.po").write_text(pseudo_po(entries))
    subprocess.run([msgfmt, "-o", str(folder / "django.mo"), str(folder / "django.po")], check=True)
    return root


@pytest.fixture
def xx(settings, pseudo_locale: Path):
    """Make "xx", the pseudo-language, one of the site's languages."""
    settings.LANGUAGES = [("en", "English"), ("xx", "Pseudo")]
    settings.LOCALE_PATHS = [pseudo_locale]
    _forget_translations()
    yield
    _forget_translations()


def _forget_translations() -> None:
    """Drop loaded catalogues (changing the settings above does so too, through a signal)."""
    trans_real._translations = {}  # type: ignore[attr-defined]  # private: not in the stubs
    trans_real._active = Local()  # type: ignore[attr-defined]
    trans_real._default = None  # type: ignore[attr-defined]
    trans_real.translation_catalog_exists.cache_clear()  # type: ignore[attr-defined]
    trans_real.get_languages.cache_clear()  # type: ignore[attr-defined]


def in_xx(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "xx"
    return client


# Elements whose text is not language; attributes whose values people read or hear.
UNREAD = frozenset({"script", "style", "code", "pre"})
READ_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "placeholder", "data-label"})


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self._unread = 0
        self._option_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNREAD:
            self._unread += 1
        # An option that shows its own value (a time zone's name, "_" read as a space) shows
        # data, not language.
        self._option_value = dict(attrs).get("value") if tag == "option" else None
        read = READ_ATTRIBUTES | ({"value"} if tag == "input" else set())
        if tag == "input" and dict(attrs).get("type") not in ("submit", "button"):
            read = READ_ATTRIBUTES
        self.attributes += [value for name, value in attrs if name in read and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in UNREAD and self._unread:
            self._unread -= 1

    def handle_data(self, data: str) -> None:
        shown = self._option_value
        if shown is not None and data.strip() in (shown, shown.replace("_", " ")):
            return
        if not self._unread:
            self.text.append(data)


INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
LETTER = re.compile(r"[^\W\d_]")
URL = re.compile(r"https?://\S+")


def _outside_brackets(text: str) -> str:
    while True:
        text, count = INNERMOST.subn(" ", text)
        if not count:
            return text


def untranslated(html: str, fixture: list[str]) -> list[str]:
    """The visible text of a page that is neither in ⟦ ⟧ nor the fixture's own data."""
    parser = _Texts()
    parser.feed(html)
    # The whole text at once: a translated sentence may hold markup (<strong>…</strong>).
    pieces = [_outside_brackets("\x00".join(parser.text)).split("\x00")]
    pieces += [_outside_brackets(value).split("\x00") for value in parser.attributes]
    known = sorted(fixture, key=len, reverse=True)
    found = []
    for piece in (p for group in pieces for p in group):
        piece = URL.sub(" ", piece)  # addresses are not language
        for word in known:
            piece = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", piece)
        if LETTER.search(piece):
            found.append(" ".join(piece.split()))
    return found


FIXTURE = [  # the fixture's own data, shown as it is in every language
    "Clinic X Eye Care",
    "1 Main Street",
    "Portland, ME",
    "alice",
    "Alice",
    "ada",
    "Ada",
    "Lovelace",
    "Ada Lovelace",
    "ada@example.com",
    "exam.pdf",
    "Annual exam",
    "virus.exe",
    "bob",
    "Bob Front Desk",
]


def check(response, fixture: list[str] = FIXTURE) -> str:
    assert response.status_code in (200, 400, 403, 404), response
    html = response.content.decode()
    assert untranslated(html, fixture) == []
    return html


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<p>⟦Hello⟧</p>", []),
        ("<p>Hello</p>", ["Hello"]),
        ("<p>⟦Signed in as <strong>alice</strong> (⟦Admin⟧).⟧</p>", []),
        ("<p>⟦Saved⟧ — Ada Lovelace, 4/2/1980</p>", []),
        ('<a title="Open">⟦x⟧</a><input type="submit" value="Go">', ["Open", "Go"]),
        ('<script>go()</script><input name="q" value="ada lovelace">', []),
        (
            '<option value="Africa/Abidjan">Africa/Abidjan</option><option value="x">Ex</option>',
            ["Ex"],
        ),
    ],
)
def test_the_check_finds_text_outside_the_brackets(html: str, found: list[str]) -> None:
    assert untranslated(html, FIXTURE) == found


def test_the_pseudo_language_wraps_what_gettext_returns(xx) -> None:
    with translation.override("xx"):
        assert translation.gettext("Please sign in again.") == "⟦Please sign in again.⟧"


def test_the_office_pages_are_all_translated(
    xx, client, alice, bob, patient_a, issue_access
) -> None:
    add_chart_pdf(alice, patient_a)
    issue_access(patient_a, "ada")
    anonymous = in_xx(client)
    check(anonymous.get(reverse("office:login")))
    wrong = {"username": "alice", "password": "not-the-password"}
    check(anonymous.post(reverse("office:login"), wrong))

    office = in_xx(login(Client(), alice))
    with translation.override("xx"):  # the worker stores its errors in the site's language
        email_queue(practice=alice.practice, to="ada@example.com", template="test", context={})
        outbox_send_due(worker_id="pseudo")
    email = OutboxEmail.objects.get()
    patient = [patient_a.public_id]
    for name, args in (
        ("home", []),
        ("patient_create", []),
        ("patient", patient),
        ("patient_edit", patient),
        ("chart_file_upload", patient),
        ("portal_document_upload", patient),
        ("portal_document_assign_system", patient),
        ("tasks", []),
        ("billing", []),
        ("account", []),
        ("account_two_factor", []),
        ("settings", []),
        ("settings_email", []),
        ("settings_api_keys", []),
        ("settings_staff", []),
        ("settings_staff_sign_out", [bob.public_id]),
        ("settings_staff_sign_out_all", []),
        ("settings_portal_sign_out", []),
        ("outbox", []),
        ("outbox_email", [email.public_id]),
        ("patient", ["00000000-0000-0000-0000-000000000000"]),  # the 404 page
    ):
        check(office.get(reverse(f"office:{name}", args=args), follow=True))
    refused = office.post(
        reverse("office:chart_file_upload", args=patient),
        {"uploads": [named("virus.exe", b"MZ\x90\x00")], "document_date": "2026-11-20"},
    )
    assert refused.status_code == 400
    check(refused)
    check(office.post(reverse("office:logout"), follow=True))  # a flash message


def test_the_portal_pages_are_all_translated(
    xx, client, alice, practice_x, patient_a, issue_access
) -> None:
    portal_document_share_chart_file(
        actor=actor(alice),
        chart_file=add_chart_pdf(alice, patient_a),
        document_date=datetime.date(2026, 11, 20),
        description="Annual exam",
        is_education=False,
    )
    username, temporary = issue_access(patient_a, "ada")
    portal = in_xx(client)
    sign_in = reverse("portal:login", args=[practice_x.slug])
    check(portal.get(sign_in))
    check(portal.post(sign_in, {"username": username, "password": "not-the-password"}))
    check(portal.post(sign_in, {"username": username, "password": temporary}, follow=True))
    new = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    check(portal.post(reverse("portal:set_password", args=[practice_x.slug]), new, follow=True))
    pages = {
        name: check(portal.get(reverse(f"portal:{name}", args=[practice_x.slug]), follow=True))
        for name in ("home", "records", "logs", "account", "two_factor_setup")
    }
    assert "Annual exam" in pages["records"] and "Lovelace" in pages["logs"]
    check(portal.get(f"/p/{practice_x.slug}/no-such-page/"))  # the 404 page
    check(portal.post(reverse("portal:logout", args=[practice_x.slug]), follow=True))
    check(portal.get(reverse("portal:forgot_password", args=[practice_x.slug])))


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle
