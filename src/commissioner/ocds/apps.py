from django.apps import AppConfig


class OcdsConfig(AppConfig):
    name = "commissioner.ocds"
    label = "ocds"
