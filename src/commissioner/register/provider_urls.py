from django.urls import path

from commissioner.register import provider_views as views

urlpatterns = [
    path("providers/", views.provider_list, name="provider-list"),
    path("providers.csv", views.provider_csv, name="provider-csv"),
    path("providers/<int:pk>/", views.provider_detail, name="provider-detail"),
    path("providers/<int:pk>/merge/", views.provider_merge, name="provider-merge"),
    path("providers/<int:pk>/names/<int:supplier_pk>/split/", views.provider_split, name="provider-split"),
]
