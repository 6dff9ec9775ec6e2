from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "praxisbote.patients"
    label = "patients"
    verbose_name = "Patients"
