from django.apps import AppConfig


class BenchmarkingConfig(AppConfig):
    name = "commissioner.benchmarking"
    label = "benchmarking"
    verbose_name = "National benchmarking"
