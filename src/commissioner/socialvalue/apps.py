from django.apps import AppConfig


class SocialValueConfig(AppConfig):
    name = "commissioner.socialvalue"
    label = "socialvalue"
    verbose_name = "Social return and social value"
