"""The password hasher: Argon2id with parameters chosen for these machines.

Django's default Argon2 parameters (t=2, 100 MiB, p=8) took 130 ms a hash on the 2-core
machines this runs on, over the 100 ms sign-in goal. OWASP's first recommended setting for
Argon2id, 46 MiB with one pass and one lane, is as strong against guessing and takes about
60 ms here (see bench/portal_login.py).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 47104  # KiB: 46 MiB
    parallelism = 1
