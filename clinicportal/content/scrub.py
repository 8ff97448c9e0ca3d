"""Walk all stored content and check it against the hashes it was stored under."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinicportal.content.blobstore import ContentCorrupted, StoredContent, get_blob_store
from clinicportal.content.models import Blob


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
