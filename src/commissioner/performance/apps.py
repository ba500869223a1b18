from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "commissioner.performance"
    label = "performance"
    verbose_name = "Contract performance"
