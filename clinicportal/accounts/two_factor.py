"""Two-step sign-in with an authenticator app: enrol, confirm, check, turn off.

Codes are checked against the current and the previous 30 seconds (never a future step), and a
code that worked once never works again. Ten recovery codes, shown once, stand in for a lost phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinicportal.accounts import totp
from clinicportal.accounts.models import PortalAccount, RecoveryCode, TwoFactorDevice, User
from clinicportal.accounts.selectors import two_factor_device

# Marked for the catalogue; translated where it is raised (gettext(WRONG_CODE)).
WRONG_CODE = gettext_noop(
    "That code did not work. Check the time on your phone and use the newest code."
)


@dataclass(frozen=True)
class Enrollment:
    device: TwoFactorDevice
    secret: str
    qr: str  # an SVG data: address


def two_factor_begin(*, owner: User | PortalAccount, issuer: str, label: str) -> Enrollment:
    """Start enrolling an authenticator: a new secret, shown as a QR code, not yet in use."""
    field = "user" if isinstance(owner, User) else "portal_account"
    if two_factor_device(owner) is not None:
        raise ValidationError(_("Two-step sign-in is already on."))
    secret = totp.new_secret()
    device = TwoFactorDevice.objects.filter(**{field: owner}).first() or TwoFactorDevice(
        **{field: owner}
    )
    device.secret, device.confirmed_at, device.last_used_step = secret, None, None
    with transaction.atomic():
        device.save()
    return Enrollment(device=device, secret=secret, qr=qr_for(device, issuer=issuer, label=label))


def qr_for(device: TwoFactorDevice, *, issuer: str, label: str) -> str:
    """Return the QR code that enrolls ``device`` in an authenticator app."""
    return totp.qr_data_uri(totp.provisioning_uri(device.secret, issuer=issuer, account=label))


class AlreadyOn(ValidationError):
    """The authenticator was turned on meanwhile: a second submit of the same form."""


def two_factor_confirm(*, device: TwoFactorDevice, code: str) -> list[str]:
    """Turn two-step sign-in on once the app shows a right code; return the recovery codes.

    Only the first of two submits at once turns it on and makes codes; the second is refused
    with AlreadyOn, so the codes the first showed stay the ones that work.
    """
    step = totp.matching_step(device.secret, code, after=None)
    if step is None:
        raise ValidationError({"code": _(WRONG_CODE)})
    with transaction.atomic():
        turned_on = TwoFactorDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), last_used_step=step
        )
        if not turned_on:
            raise AlreadyOn(
                _(
                    "Two-step sign-in is already on. If you did not see your recovery codes, "
                    "make new ones from your account page."
                )
            )
        device.refresh_from_db(fields=["confirmed_at", "last_used_step"])
        return recovery_codes_replace(device=device)


def recovery_codes_replace(*, device: TwoFactorDevice) -> list[str]:
    """Give ``device`` new recovery codes in place of all its old ones; return them."""
    codes = totp.recovery_codes()
    with transaction.atomic():
        device.recovery_codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, code_hash=totp.recovery_hash(c)) for c in codes
        )
    return codes


# What two_factor_check says a right code was.
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"


def two_factor_check(*, device: TwoFactorDevice, code: str) -> str | None:
    """Return what ``code`` is (AUTHENTICATOR or RECOVERY) if right, and use it up; else None."""
    step = totp.matching_step(device.secret, code, after=device.last_used_step)
    if step is not None:
        # A conditional update: the same code sent twice at once passes only once.
        updated = (
            TwoFactorDevice.objects.filter(pk=device.pk)
            .exclude(last_used_step__gte=step)
            .update(last_used_step=step)
        )
        return AUTHENTICATOR if updated else None
    if totp.recovery_normalize(code) is None:
        return None
    updated = RecoveryCode.objects.filter(
        device=device, code_hash=totp.recovery_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return RECOVERY if updated else None


def two_factor_replayed(*, device: TwoFactorDevice, code: str) -> bool:
    """Whether ``code``, refused by two_factor_check, is a right code of now or a step ago that
    was used already: a double click, or a second device a moment after the first. Refused all
    the same, but not a wrong code."""
    return totp.matching_step(device.secret, code, after=None) is not None


def two_factor_remove(*, owner: User | PortalAccount) -> None:
    field = "user" if isinstance(owner, User) else "portal_account"
    TwoFactorDevice.objects.filter(**{field: owner}).delete()
