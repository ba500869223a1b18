from django.urls import path

from commissioner.benchmarking import views

urlpatterns = [
    path("benchmarking/", views.catalogue, name="benchmarking"),
    path("benchmarking/measures/<str:code>/upload/", views.upload, name="benchmarking-upload"),
    path("benchmarking/measures/<str:code>/", views.measure_page, name="benchmarking-measure"),
    path("benchmarking/councils/<slug:slug>/", views.council_page, name="benchmarking-council"),
]
