from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A login to the office console. Its practice and role live on ``StaffMember``."""

    class Meta:
        db_table = "accounts_user"
