"""Clinic Portal: a secure patient portal with its practice console."""
