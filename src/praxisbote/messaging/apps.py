from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "praxisbote.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from praxisbote.messaging import gdpr

        gdpr.register()
