"""Reaching many patients at once: mass notices, birthdays, recalls, waiting list, mass
cancellation (REQUIREMENTS APT-6..9)."""
