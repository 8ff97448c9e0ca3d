"""Walk all stored content and check it against the hashes it was stored under."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from clinicportal.content.blobstore import ContentCorrupted, StoredContent, get_blob_store
from clinicportal.content.models import Blob, blob_storage_name
from clinicportal.content.services import blob_release


@dataclass
class ScrubReport:
    checked: int = 0
    damaged: list[str] = field(default_factory=list)  # missing or not matching their hash
    unreferenced: list[str] = field(default_factory=list)  # files no row points at

    @property
    def ok(self) -> bool:
        return not self.damaged


def content_scrub() -> ScrubReport:
    """Re-hash every blob; list damaged ones and stored files that no row knows."""
    store = get_blob_store()
    report = ScrubReport()
    known: set[str] = set()
    for blob in Blob.objects.order_by("pk").iterator(chunk_size=2000):
        known.add(blob.storage_name)
        report.checked += 1
        try:
            store.verify(blob.storage_name, StoredContent(blob.sha256, blob.size))
        except ContentCorrupted as exc:
            report.damaged.append(str(exc))
    report.unreferenced = sorted(name for name in store.walk() if name not in known)
    return report


@dataclass
class SweepReport:
    rows_deleted: int = 0
    files_deleted: list[str] = field(default_factory=list)
    temp_files_deleted: int = 0  # uploads a killed worker or a full disk left unfinished


ORPHAN_GRACE = timedelta(hours=1)


def content_sweep() -> SweepReport:
    """Delete stored content that nothing refers to any more.

    Blob rows no chart file, portal document or library entry points at go with their files;
    files with no row go too, once they are an hour old (a file is written just before the row
    that names it commits, so a younger one may belong to an upload still under way). So do
    files in the temporary folder unchanged for an hour: an upload still being written changes
    its file with every piece, so such a file is what an upload that never finished left.
    """
    store = get_blob_store()
    report = SweepReport()
    unused = Blob.objects.all()
    for relation in Blob._meta.related_objects:
        unused = unused.filter(**{f"{relation.name}__isnull": True})
    for blob in unused.iterator(chunk_size=500):
        if blob_release(blob):  # the file goes when the deletion commits
            report.rows_deleted += 1
    known = set()
    for practice_id, sha256 in Blob.objects.values_list("practice_id", "sha256").iterator():
        known.add(blob_storage_name(practice_id, sha256))
    cutoff = (timezone.now() - ORPHAN_GRACE).timestamp()
    for name in store.walk():
        if name not in known and store.path(name).stat().st_mtime < cutoff:
            store.delete(name)
            report.files_deleted.append(name)
    for path in store.temp_files():
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:  # its upload has just finished or been removed
            continue
        if old:
            path.unlink(missing_ok=True)
            report.temp_files_deleted += 1
    return report
