"""Search Online: MedlinePlus health topics from the National Library of Medicine.

The web service (https://medlineplus.gov/about/developers/webservices/) answers
``GET <base>?db=healthTopics&term=…&retmax=N`` with XML::

    <nlmSearchResult>
      <term>…</term><count>…</count>…
      <list num="…" start="0" per="…">
        <document rank="0" url="https://medlineplus.gov/glaucoma.html">
          <content name="title">&lt;span class="qt0"&gt;Glaucoma&lt;/span&gt;</content>
          <content name="FullSummary">&lt;p&gt;Glaucoma is a group of …</content>
          <content name="snippet">…</content>
          …
        </document>
      </list>
    </nlmSearchResult>

Titles and summaries carry HTML (search-term highlights, paragraphs); only their text is kept.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.core import signing
from django.utils.html import strip_tags

from clinicportal.core.outbound import Unreachable, fetch

RESULTS = 10
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
TITLE_MAX = 200
SUMMARY_MAX = 2000
# Topic pages live on these hosts; a link anywhere else is never shared.
TOPIC_HOSTS = frozenset({"medlineplus.gov", "www.medlineplus.gov", "www.nlm.nih.gov"})
SIGNING_SALT = "clinicportal.records.search-online"
SIGNED_FOR = 24 * 60 * 60  # a search result can be shared for a day


@dataclass(frozen=True)
class HealthTopic:
    title: str
    url: str
    summary: str

    def signed(self) -> str:
        """This topic, signed, for a form to hand back exactly as the service returned it."""
        return signing.dumps(asdict(self), salt=SIGNING_SALT, compress=True)

    @classmethod
    def from_signed(cls, value: str) -> HealthTopic:
        """The topic a form handed back; ValueError if it was changed or is too old."""
        try:
            data = signing.loads(value, salt=SIGNING_SALT, max_age=SIGNED_FOR)
            return cls(title=str(data["title"]), url=str(data["url"]), summary=str(data["summary"]))
        except (signing.BadSignature, KeyError, TypeError) as exc:
            raise ValueError("Not a search result of ours.") from exc


class MedlinePlusUnavailable(Exception):
    """The service could not be reached, or did not answer in its format."""


def topic_url(url: str) -> str | None:
    """The https address of a MedlinePlus page, rebuilt from its parts; None for anything else.

    No user name, password, port or backslash, and only the known hosts: what is stored and
    later followed by patients is a plain https URL on MedlinePlus.
    """
    if "\\" in url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (
        parts.scheme not in ("https", "http")
        or parts.username is not None
        or parts.password is not None
        or port is not None
        or host not in TOPIC_HOSTS
    ):
        return None
    return urlunsplit(("https", host, parts.path or "/", parts.query, ""))


def health_topics_search(term: str, *, limit: int = RESULTS) -> list[HealthTopic]:
    """Return MedlinePlus health topics for ``term``, best first.

    Raises MedlinePlusUnavailable when the service is out of reach, slow, or answers with
    something other than its search result XML.
    """
    query = urlencode({"db": "healthTopics", "term": term.strip(), "retmax": limit})
    try:
        body = fetch(
            f"{settings.CLINICPORTAL_MEDLINEPLUS_URL}?{query}",
            headers={"Accept": "application/xml", "User-Agent": "ClinicPortal (Search Online)"},
            timeout=settings.CLINICPORTAL_MEDLINEPLUS_TIMEOUT,
            max_bytes=MAX_RESPONSE_BYTES,
        )
    except Unreachable as exc:
        raise MedlinePlusUnavailable(str(exc)) from exc
    return parse_search_result(body)[:limit]


def parse_search_result(body: bytes) -> list[HealthTopic]:
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, LookupError, ValueError) as exc:
        raise MedlinePlusUnavailable("The answer was not the service's XML.") from exc
    if root.tag != "nlmSearchResult":
        raise MedlinePlusUnavailable(f"Unexpected answer <{root.tag}>.")
    topics = []
    for document in root.iterfind("./list/document"):
        url = topic_url((document.get("url") or "").strip())
        fields = {c.get("name"): c.text or "" for c in document.iterfind("content")}
        title = _text(fields.get("title", ""))[:TITLE_MAX]
        if not title or url is None:
            continue
        summary = _text(fields.get("FullSummary") or fields.get("snippet", ""))[:SUMMARY_MAX]
        topics.append(HealthTopic(title=title, url=url, summary=summary))
    return topics


def _text(markup: str) -> str:
    """The plain text of a field's HTML, on one line (paragraphs and items kept apart)."""
    spaced = re.sub(r"<(?:/p|br|/li|/h\d)\b[^>]*>", " ", markup, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", html.unescape(strip_tags(spaced))).strip()
