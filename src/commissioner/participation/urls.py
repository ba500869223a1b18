from django.urls import path

from commissioner.participation import views

urlpatterns = [
    path("participate/", views.index, name="participation-index"),
    path("participate/councils/<slug:slug>/", views.council, name="participation-council"),
    path("participate/councils/<slug:slug>/new/", views.exercise_create, name="participation-create"),
    path("participate/councils/<slug:slug>/import/", views.pb_import, name="participation-import"),
    path("participate/<int:pk>/", views.exercise_detail, name="participation-exercise"),
    path("participate/<int:pk>/settings/", views.exercise_update, name="participation-update"),
    path("participate/<int:pk>/projects/", views.project_add, name="participation-project-add"),
    path("participate/<int:pk>/status/", views.status_change, name="participation-status"),
    path("participate/<int:pk>/codes/", views.codes_issue, name="participation-codes"),
    path("participate/<int:pk>/vote/", views.vote, name="participation-vote"),
    path("participate/<int:pk>/email/", views.email_code, name="participation-email"),
    path("participate/<int:pk>/receipt/", views.receipt_check, name="participation-receipt"),
    path("participate/<int:pk>/results/", views.results, name="participation-results"),
    path("participate/<int:pk>/export.pb", views.export_pb, name="participation-export"),
]
