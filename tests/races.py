"""Two requests at the same moment, for the race tests (PostgreSQL: SQLite runs one writer)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import requests
from django.conf import settings
from django.test import Client


def at_once[T](call: Callable[[], T], count: int = 2) -> list[T]:
    """Run ``call`` in ``count`` threads released together; return their answers in order."""
    start = threading.Barrier(count)
    answers: list[T | None] = [None] * count

    def run(index: int) -> None:
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers), "a thread gave no answer"
    return [answer for answer in answers if answer is not None]


HIDDEN = re.compile(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"')
POST_FORM = re.compile(r'<form\b[^>]*method="post"[^>]*>.*?</form>', re.S)


def hidden_fields(html: str, marker: str) -> dict[str, str]:
    """The hidden fields (CSRF, one-time token ...) of the page's post form holding ``marker``."""
    form = next(f for f in POST_FORM.findall(html) if marker in f)
    return dict(HIDDEN.findall(form))


def signed_in(member) -> requests.Session:
    """A browser's cookies: a staff member signed in."""
    client = Client()
    client.force_login(member.user)
    browser = requests.Session()
    name = settings.SESSION_COOKIE_NAME
    browser.cookies.set(name, client.cookies[name].value)
    return browser


def post_twice_at_once(browser: requests.Session, url: str, data, files=None) -> list:
    """Post the same form from two threads at the same moment, with the browser's cookies."""
    start = threading.Barrier(2)
    answers: list = [None, None]

    def post(index: int) -> None:
        tab = requests.Session()
        tab.cookies.update(browser.cookies)
        start.wait()
        answers[index] = tab.post(url, data=data, files=files, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
