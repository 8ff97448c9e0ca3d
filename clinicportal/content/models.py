from __future__ import annotations

from django.db import models


class Blob(models.Model):
    """Immutable stored content of one practice, addressed by its SHA-256.

    Chart files (and later portal documents) point at a blob; the same bytes uploaded
    twice, or shared to several patients, are stored once.
    """

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "sha256"], name="blob_unique_per_practice"),
            models.CheckConstraint(condition=models.Q(size__gt=0), name="blob_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} bytes)"

    @property
    def storage_name(self) -> str:
        return blob_storage_name(self.practice_id, self.sha256)


def blob_storage_name(practice_id: int, sha256: str) -> str:
    """Return where the content with ``sha256`` of one practice is stored."""
    return f"blobs/{practice_id}/{sha256[:2]}/{sha256}"
