from django.apps import AppConfig


class TextsConfig(AppConfig):
    name = "praxisbote.texts"
    label = "texts"
    verbose_name = "Texts"
