from django.urls import path

from commissioner.orgs import views

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation-list"),
    path("organisations.csv", views.organisation_csv, name="organisation-csv"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation-detail"),
    path("organisations/<slug:slug>/names/<int:pk>/", views.alias_correct, name="organisation-alias-correct"),
    path("audit/", views.audit_list, name="audit-list"),
]
