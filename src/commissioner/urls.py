from django.contrib import admin
from django.urls import include, path

from commissioner.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("commissioner.core.urls")),
    path("", include("commissioner.performance.urls")),
    path("", include("commissioner.benchmarking.urls")),
    path("", include("commissioner.risk.urls")),
    path("", include("commissioner.appraisal.urls")),
    path("", include("commissioner.market.urls")),
    path("", include("commissioner.socialvalue.urls")),
    path("", include("commissioner.participation.urls")),
    path("", include("commissioner.feedback.urls")),
    path("", include("commissioner.register.urls")),
    path("", include("commissioner.register.provider_urls")),
    path("", include("commissioner.orgs.urls")),
    path("api/v1/", api.urls),
]
