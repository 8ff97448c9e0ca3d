"""gunicorn's settings, read from the directory it starts in: its own lines in the site's format.

Without this, gunicorn's own lines (a worker booted, a worker timed out and was killed) would
be plain text among the site's JSON lines on stderr. They go through the same formatter
(core/logformat.py), chosen by CLINICPORTAL_LOG_FORMAT; they have no request id.

gunicorn's access log stays off (its default): the site writes one access line per request,
with its request id and actor, and without query strings or secret tokens. Should an operator
turn it on (--access-logfile -), its lines leave out the query string, the referrer and the
browser.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.glogging import Logger

access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


class SiteFormatLogger(Logger):
    """gunicorn's logger, writing through the site's formatter."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from clinicportal.core.logformat import ContextFilter, JsonFormatter, TextFormatter

        text = os.environ.get("CLINICPORTAL_LOG_FORMAT") == "text"
        formatter: logging.Formatter = TextFormatter() if text else JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
                handler.addFilter(ContextFilter())


logger_class = SiteFormatLogger
