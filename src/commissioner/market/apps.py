from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "commissioner.market"
    label = "market"
    verbose_name = "Market analysis"
