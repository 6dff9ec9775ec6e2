from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "praxisbote.appointments"
    label = "appointments"
    verbose_name = "Appointments"

    def ready(self) -> None:
        # The worker asks every registered check before a message leaves (see
        # messaging/outcomes.py hand_over): ours drops reminders of moved appointments.
        from praxisbote.appointments import gdpr, handover
        from praxisbote.messaging import outcomes

        if handover.drop_stale not in outcomes.HANDOVER_CHECKS:
            outcomes.HANDOVER_CHECKS.append(handover.drop_stale)
        gdpr.register()
