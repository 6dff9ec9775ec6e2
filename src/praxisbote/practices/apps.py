from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "praxisbote.practices"
    label = "practices"
    verbose_name = "Practices"
