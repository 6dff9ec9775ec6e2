"""Many patients at once for the picker's tests (the select it replaced stopped at 2,000)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from praxisbote.db import fast_insert
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Practice

LAST_NAMES = ("Gruber", "Huber", "Bauer", "Wagner", "Müller", "Pichler", "Steiner", "Moser")
FIRST_NAMES = ("Anna", "Maria", "Lukas", "Jonas", "Sophie", "Paul", "Elias", "Lena", "Eva")


def add_patients(practice: Practice, count: int) -> None:
    """``count`` patients with common names (each name many times), birth dates, e-mail
    addresses and mobile numbers, written in a few statements."""
    fast_insert(
        [
            Patient(
                id=uuid.uuid4(),
                practice=practice,
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=f"{LAST_NAMES[i % len(LAST_NAMES)]}{'' if i % 3 else '-Berger'}",
                birth_date=date(1940, 1, 1) + timedelta(days=(i * 37) % 25000),
                email=f"p{i}@example.org",
                mobile=f"+43676{1000000 + i}",
                consent={},
            )
            for i in range(count)
        ]
    )
