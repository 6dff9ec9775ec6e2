from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "praxisbote.web"
    label = "web"
    verbose_name = "Staff UI"
