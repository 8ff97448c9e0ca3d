"""How much a portal account may send the office in files (ASVS 5.2.4).

Every file a patient or guardian attaches to a message is stored for good, so one account (or
whoever has its password) could otherwise fill the practice's disk, ten files of 50 MB at a
time. Each portal account may send at most CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES files and
CLINICPORTAL_PORTAL_UPLOAD_QUOTA_BYTES bytes in any QUOTA_DAYS days, counted over every patient
the account writes for. The office sends without a quota.

The count that decides is taken inside the transaction that writes the message, with the
account's row locked, so two sends at the same moment are counted one after the other and
cannot both slip under the limit. A first count, unlocked, comes before the files are opened
and scanned, so that files past the limit cost no scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinicportal.accounts.models import PortalAccount
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.context import PortalActor
from clinicportal.messaging.models import Attachment

QUOTA_DAYS = 30


def portal_upload_quota_check(
    *, actor: PortalActor, uploads: Sequence[HashedUpload], lock: bool = True
) -> None:
    """Raise ValidationError (on "attachments") if ``uploads`` would take the actor's account
    past its quota. Call it in the transaction that stores them; or, with ``lock`` False,
    before their checks and scan, to refuse early what would be refused anyway."""
    if not uploads:
        return
    if lock:
        list(PortalAccount.objects.select_for_update().filter(pk=actor.account.pk).values("pk"))
    since = timezone.now() - timedelta(days=QUOTA_DAYS)
    sent = Attachment.objects.filter(
        message__author_account=actor.account, message__created_at__gte=since
    ).aggregate(files=Count("pk"), size=Sum("blob__size"))
    files, size = sent["files"], sent["size"] or 0
    most_files = settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES
    most_bytes = settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_BYTES
    if (
        files + len(uploads) <= most_files
        and size + sum(u.size or 0 for u in uploads) <= most_bytes
    ):
        return
    said = {
        "days": QUOTA_DAYS,
        "files": _files(files),
        "size": filesizeformat(size),
        "count": len(uploads),
        "most_files": _files(most_files),
        "most_size": filesizeformat(most_bytes),
        "phone": actor.practice.phone,
    }
    so_far = _("This account has sent %(files)s (%(size)s) in the last %(days)d days.") % said
    past = (
        ngettext(
            "This file would take it past the portal’s limit of %(most_files)s and %(most_size)s, "
            "so nothing was sent.",
            "These %(count)d files would take it past the portal’s limit of %(most_files)s and "
            "%(most_size)s, so nothing was sent.",
            len(uploads),
        )
        % said
    )
    ask = _("Please send fewer or smaller files, or call the office at %(phone)s.") % said
    raise ValidationError({"attachments": f"{so_far} {past} {ask}"}, code="quota")


def _files(count: int) -> str:
    return ngettext("%(count)d file", "%(count)d files", count) % {"count": count}
