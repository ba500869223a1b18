from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "commissioner.core"
    label = "core"
