from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("commissioner.core.urls")),
    # Pages (helpers add these modules): contracts and dashboards, providers, organisations.
    # path("", include("commissioner.register.urls")),
    # path("", include("commissioner.orgs.urls")),
    # path("api/v1/", api.urls),
]
