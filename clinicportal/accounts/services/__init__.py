"""Writes for portal accounts, staff sign-in and API keys, one module per concept."""
