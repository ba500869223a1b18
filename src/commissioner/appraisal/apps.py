from django.apps import AppConfig


class AppraisalConfig(AppConfig):
    name = "commissioner.appraisal"
    label = "appraisal"
    verbose_name = "Options appraisal"
