from django.urls import path

from commissioner.socialvalue import views

# OCDS ocids may hold '/', so a contract's sub-pages come before its page.
urlpatterns = [
    path("social-value/councils/<slug:slug>/", views.council, name="socialvalue-council"),
    path("social-value/councils/<slug:slug>/models/", views.model_create, name="socialvalue-model-create"),
    path("social-value/councils/<slug:slug>/proxies/", views.proxies, name="socialvalue-proxies"),
    path("social-value/councils/<slug:slug>/proxies/add/", views.proxy_add, name="socialvalue-proxy-add"),
    path("social-value/councils/<slug:slug>/proxies/upload/", views.proxy_upload, name="socialvalue-proxy-upload"),
    path("social-value/models/<int:pk>/", views.model_detail, name="socialvalue-model"),
    path("social-value/models/<int:pk>/outcomes/", views.outcome_add, name="socialvalue-outcome-add"),
    path("social-value/providers/<int:pk>/", views.provider_page, name="socialvalue-provider"),
    path("social-value/contracts/<path:ocid>/commitments/", views.commitment_add, name="socialvalue-commitment-add"),
    path("social-value/contracts/<path:ocid>/deliveries/upload/", views.delivery_upload,
         name="socialvalue-delivery-upload"),
    path("social-value/contracts/<path:ocid>/deliveries/", views.delivery_add, name="socialvalue-delivery-add"),
    path("social-value/contracts/<path:ocid>/", views.contract_page, name="socialvalue-contract"),
]
