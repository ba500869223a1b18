from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "commissioner.register"
    label = "register"
