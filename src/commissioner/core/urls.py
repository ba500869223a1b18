from django.contrib.auth.views import LogoutView
from django.urls import path

from commissioner.core import views
from commissioner.orgs.auth import SignInView

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", SignInView.as_view(), name="login"),
    path("sign-out/", LogoutView.as_view(), name="logout"),
]
