from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "praxisbote.outreach"
    label = "outreach"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from praxisbote.outreach import gdpr

        gdpr.register()
