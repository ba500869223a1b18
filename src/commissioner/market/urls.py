from django.urls import path

from commissioner.market import views

urlpatterns = [
    path("market/", views.index, name="market-index"),
    path("market/<slug:slug>/upload/", views.upload, name="market-upload"),
    path("market/<slug:slug>/files/<int:pk>/remove/", views.remove_file, name="market-remove-file"),
    path("market/<slug:slug>/categories/", views.categories, name="market-categories"),
    path("market/<slug:slug>/", views.council_page, name="market-council"),
]
