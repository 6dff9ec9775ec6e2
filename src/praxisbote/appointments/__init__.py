"""Appointments, their reminder rules and the express appointment slip (APT-1..5, 10, 11)."""
