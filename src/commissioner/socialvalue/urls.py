from django.urls import path

from commissioner.socialvalue import views

# OCDS ocids may hold '/', so a contract's sub-pages come before its page.
urlpatterns = [
    path("social-value/", views.index, name="socialvalue-index"),
    path("social-value/councils/<slug:slug>/", views.council, name="socialvalue-council"),
    path("social-value/councils/<slug:slug>/models/", views.model_create, name="socialvalue-model-create"),
    path("social-value/councils/<slug:slug>/proxies/", views.proxies, name="socialvalue-proxies"),
    path("social-value/councils/<slug:slug>/proxies/add/", views.proxy_add, name="socialvalue-proxy-add"),
    path("social-value/councils/<slug:slug>/proxies/upload/", views.proxy_upload, name="socialvalue-proxy-upload"),
    path("social-value/councils/<slug:slug>/proxies/open/", views.open_proxies_copy,
         name="socialvalue-open-proxies-copy"),
    path("social-value/open-proxies/", views.open_proxies_page, name="socialvalue-open-proxies"),
    path("social-value/proxies/<int:pk>/edit/", views.proxy_edit, name="socialvalue-proxy-edit"),
    path("social-value/proxies/<int:pk>/delete/", views.proxy_delete, name="socialvalue-proxy-delete"),
    path("social-value/models/<int:pk>/", views.model_detail, name="socialvalue-model"),
    path("social-value/models/<int:pk>/edit/", views.model_edit, name="socialvalue-model-edit"),
    path("social-value/models/<int:pk>/delete/", views.model_delete, name="socialvalue-model-delete"),
    path("social-value/models/<int:pk>/outcomes/", views.outcome_add, name="socialvalue-outcome-add"),
    path("social-value/outcomes/<int:pk>/edit/", views.outcome_edit, name="socialvalue-outcome-edit"),
    path("social-value/outcomes/<int:pk>/delete/", views.outcome_delete, name="socialvalue-outcome-delete"),
    path("social-value/commitments/<int:pk>/edit/", views.commitment_edit, name="socialvalue-commitment-edit"),
    path("social-value/commitments/<int:pk>/delete/", views.commitment_delete, name="socialvalue-commitment-delete"),
    path("social-value/deliveries/<int:pk>/edit/", views.delivery_edit, name="socialvalue-delivery-edit"),
    path("social-value/deliveries/<int:pk>/delete/", views.delivery_delete, name="socialvalue-delivery-delete"),
    path("social-value/providers/<int:pk>/", views.provider_page, name="socialvalue-provider"),
    path("social-value/contracts/<path:ocid>/commitments/", views.commitment_add, name="socialvalue-commitment-add"),
    path("social-value/contracts/<path:ocid>/deliveries/upload/", views.delivery_upload,
         name="socialvalue-delivery-upload"),
    path("social-value/contracts/<path:ocid>/deliveries/", views.delivery_add, name="socialvalue-delivery-add"),
    path("social-value/contracts/<path:ocid>/", views.contract_page, name="socialvalue-contract"),
]
