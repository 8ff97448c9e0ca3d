"""Settings for bench/portal_pages.py only: the site's settings with the bench URLconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pages_urls"
