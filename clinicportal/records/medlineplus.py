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
import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.utils.html import strip_tags

RESULTS = 10
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
TITLE_MAX = 200
SUMMARY_MAX = 2000
# Topic pages live on these hosts (and their subdomains); a link elsewhere is never shared.
TOPIC_HOSTS = ("medlineplus.gov", "nlm.nih.gov")


@dataclass(frozen=True)
class HealthTopic:
    title: str
    url: str
    summary: str


class MedlinePlusUnavailable(Exception):
    """The service could not be reached, or did not answer in its format."""


def topic_url_allowed(url: str) -> bool:
    """True for an https (or http) page on MedlinePlus or the NLM site."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("https", "http") and any(
        host == allowed or host.endswith("." + allowed) for allowed in TOPIC_HOSTS
    )


def health_topics_search(term: str, *, limit: int = RESULTS) -> list[HealthTopic]:
    """Return MedlinePlus health topics for ``term``, best first.

    Raises MedlinePlusUnavailable when the service is out of reach, slow, or answers with
    something other than its search result XML.
    """
    query = urlencode({"db": "healthTopics", "term": term.strip(), "retmax": limit})
    request = Request(  # noqa: S310 - the base URL is an http(s) URL, checked at start-up
        f"{settings.CLINICPORTAL_MEDLINEPLUS_URL}?{query}",
        headers={"Accept": "application/xml", "User-Agent": "ClinicPortal (Search Online)"},
    )
    try:
        with urlopen(  # noqa: S310 - as above
            request, timeout=settings.CLINICPORTAL_MEDLINEPLUS_TIMEOUT
        ) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts
        raise MedlinePlusUnavailable(str(exc)) from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise MedlinePlusUnavailable("The answer was too large.")
    return parse_search_result(body)[:limit]


def parse_search_result(body: bytes) -> list[HealthTopic]:
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise MedlinePlusUnavailable("The answer was not the service's XML.") from exc
    if root.tag != "nlmSearchResult":
        raise MedlinePlusUnavailable(f"Unexpected answer <{root.tag}>.")
    topics = []
    for document in root.iterfind("./list/document"):
        url = (document.get("url") or "").strip()
        fields = {c.get("name"): c.text or "" for c in document.iterfind("content")}
        title = _text(fields.get("title", ""))[:TITLE_MAX]
        if not title or not topic_url_allowed(url):
            continue
        summary = _text(fields.get("FullSummary") or fields.get("snippet", ""))[:SUMMARY_MAX]
        topics.append(HealthTopic(title=title, url=url, summary=summary))
    return topics


def _text(markup: str) -> str:
    """The plain text of a field's HTML, on one line (paragraphs and items kept apart)."""
    spaced = re.sub(r"<(?:/p|br|/li|/h\d)\b[^>]*>", " ", markup, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", html.unescape(strip_tags(spaced))).strip()
