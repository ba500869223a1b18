from django.urls import path

from commissioner.risk import views

# OCDS ocids may hold '/', so the sub-pages come before the contract's page itself.
urlpatterns = [
    path("risk/contracts/<path:ocid>/assess/", views.assess, name="risk-assess"),
    path("risk/contracts/<path:ocid>/accounts/upload/", views.upload, name="risk-accounts-upload"),
    path("risk/contracts/<path:ocid>/accounts/", views.accounts, name="risk-accounts"),
    path("risk/contracts/<path:ocid>/", views.contract_risk, name="risk-contract"),
]
