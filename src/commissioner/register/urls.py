from django.urls import path

from commissioner.register import views

urlpatterns = [
    path("contracts/", views.contract_list, name="contract-list"),
    path("contracts.csv", views.contract_csv, name="contract-csv"),
    path("contracts/new/", views.contract_create, name="contract-create"),
    # OCDS ocids hold letters, digits and '-' (and, from some publishers, '/' or '.').
    path("contracts/<path:ocid>/", views.contract_detail, name="contract-detail"),
    path("organisations/<slug:slug>/dashboard/", views.organisation_dashboard, name="organisation-dashboard"),
]
