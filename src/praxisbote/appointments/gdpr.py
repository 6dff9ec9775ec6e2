"""Appointments in the patient's GDPR export (Art. 15) and their removal on erasure (Art. 17)."""

from __future__ import annotations

from typing import Any

from praxisbote.patients.models import Patient


def export(patient: Patient) -> dict[str, Any]:
    from praxisbote.appointments.models import Appointment

    return {
        "appointments": [
            {
                "id": str(a.id),
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "practitioner": a.practitioner,
                "location": a.location,
                "notes": a.notes,
                "status": a.status,
                "cannot_come_at": a.cannot_come_at.isoformat() if a.cannot_come_at else None,
            }
            for a in Appointment.objects.filter(patient=patient)
        ]
    }


def erase(patient: Patient) -> None:
    """Delete the patient's appointments (their slips die with them); the messaging hook
    withdraws what is still pending."""
    from praxisbote.appointments.models import Appointment

    Appointment.objects.filter(patient=patient).delete()


def register() -> None:
    from praxisbote.patients import services

    if export not in services.EXPORT_HOOKS:
        services.EXPORT_HOOKS.append(export)
    if erase not in services.ERASE_HOOKS:
        services.ERASE_HOOKS.append(erase)
