from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "commissioner.orgs"
    label = "orgs"
