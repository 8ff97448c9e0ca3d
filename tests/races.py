"""Two requests at the same moment, for the race tests (PostgreSQL: SQLite runs one writer)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import requests
from django.conf import settings
from django.db import connection
from django.test import Client


def at_once[T](*calls: Callable[[], T]) -> list[T]:
    """Run each call in a thread of its own, all released at the same moment; return their
    answers in order. Each thread closes its own database connection when done; what a call
    raised is raised here."""
    start = threading.Barrier(len(calls))
    answers: dict[int, T] = {}
    raised: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait()
            answers[index] = call()
        except BaseException as error:
            raised.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if raised:
        raise raised[0]
    return [answers[index] for index in range(len(calls))]


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

    def post() -> requests.Response:
        tab = requests.Session()
        tab.cookies.update(browser.cookies)
        return tab.post(url, data=data, files=files, allow_redirects=False, timeout=60)

    return at_once(post, post)
