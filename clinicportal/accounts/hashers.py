"""The password hasher: Argon2id with parameters chosen for these machines.

Django's default Argon2 parameters (t=2, 100 MiB, p=8) took 130 ms a hash on the 2-core
machines this runs on, over the 100 ms sign-in goal. The next choice, OWASP's first setting
(46 MiB, one pass), still took about 90 ms a hash and 140 ms a whole sign-in.

The OWASP Password Storage Cheat Sheet lists five Argon2id settings of equal strength against
guessing: 46 MiB and one pass, 19 MiB and two passes, 12 MiB and three, 9 MiB and four, 7 MiB
and five. We use 19 MiB with two passes: about 40 ms here, so a sign-in fits in 100 ms with
room to spare, while keeping the most memory per guess of the settings that fit (memory is
what makes guessing on graphics cards dear). Hashes made with older parameters are upgraded
when their owner next signs in (see ``password_needs_rehash``). Measure with
bench/portal_login.py.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456  # KiB: 19 MiB
    parallelism = 1
