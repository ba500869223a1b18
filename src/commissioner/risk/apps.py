from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "commissioner.risk"
    label = "risk"
    verbose_name = "Supplier financial risk"
