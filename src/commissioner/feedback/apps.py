from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "commissioner.feedback"
    label = "feedback"
    verbose_name = "Residents' feedback"
