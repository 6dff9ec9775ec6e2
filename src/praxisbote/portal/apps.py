from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "praxisbote.portal"
    label = "portal"
    verbose_name = "Patient pages"
