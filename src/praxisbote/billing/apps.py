from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "praxisbote.billing"
    label = "billing"
    verbose_name = "Billing"
