from django.urls import path

from commissioner.market import views

urlpatterns = [
    path("market/", views.index, name="market-index"),
    path("market/<slug:slug>/upload/", views.upload, name="market-upload"),
    path("market/<slug:slug>/", views.council_page, name="market-council"),
]
