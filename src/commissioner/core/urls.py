from django.urls import path

from commissioner.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
