from django.apps import AppConfig


class ParticipationConfig(AppConfig):
    name = "commissioner.participation"
    label = "participation"
    verbose_name = "Participatory budgeting and priority setting"
