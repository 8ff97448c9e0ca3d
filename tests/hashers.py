from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2idHasher(Argon2PasswordHasher):
    """Argon2id with tiny costs, so tests exercise the real algorithm quickly."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
