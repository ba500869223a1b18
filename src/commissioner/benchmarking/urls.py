from django.urls import path

from commissioner.benchmarking import local_views, peer_views, provider_views, views

urlpatterns = [
    path("benchmarking/", views.catalogue, name="benchmarking"),
    path("benchmarking/local/", local_views.local_list, name="benchmarking-local-list"),
    path("benchmarking/local/new/", local_views.local_new, name="benchmarking-local-new"),
    path("benchmarking/local/<str:code>/", local_views.local_detail, name="benchmarking-local"),
    path("benchmarking/local/<str:code>/edit/", local_views.local_edit, name="benchmarking-local-edit"),
    path("benchmarking/local/<str:code>/value/", local_views.local_value, name="benchmarking-local-value"),
    path("benchmarking/local/<str:code>/<slug:action>/", local_views.local_action, name="benchmarking-local-action"),
    path("benchmarking/measures/<str:code>/upload/", views.upload, name="benchmarking-upload"),
    path("benchmarking/measures/<str:code>/", views.measure_page, name="benchmarking-measure"),
    path("benchmarking/councils/<slug:slug>/", views.council_page, name="benchmarking-council"),
    path("benchmarking/councils/<slug:slug>/neighbours/", peer_views.neighbours, name="benchmarking-neighbours"),
    path("benchmarking/councils/<slug:slug>/peer-groups/", peer_views.peer_groups, name="benchmarking-peer-groups"),
    path("benchmarking/councils/<slug:slug>/peer-groups/<int:pk>/", peer_views.peer_groups,
         name="benchmarking-peer-group"),
    path("benchmarking/councils/<slug:slug>/peer-groups/<int:pk>/delete/", peer_views.peer_group_delete,
         name="benchmarking-peer-group-delete"),
    path("benchmarking/providers/<int:pk>/", provider_views.provider_page, name="benchmarking-provider"),
    path("benchmarking/categories/", provider_views.categories_page, name="benchmarking-categories"),
    path("benchmarking/categories/<str:division>/", provider_views.category_page, name="benchmarking-category"),
    path("benchmarking/code-mappings/", peer_views.code_mappings, name="benchmarking-code-mappings"),
    path("benchmarking/code-mappings/<int:pk>/delete/", peer_views.code_mapping_delete,
         name="benchmarking-code-mapping-delete"),
]
