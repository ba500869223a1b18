from django.urls import path

from commissioner.appraisal import views

urlpatterns = [
    path("appraisals/", views.index, name="appraisal-list"),
    path("appraisals/new/", views.create, name="appraisal-create"),
    path("appraisals/<int:pk>/", views.detail, name="appraisal-detail"),
    path("appraisals/<int:pk>/options/", views.add_option, name="appraisal-add-option"),
    path("appraisals/<int:pk>/options/<int:option_id>/", views.edit_option, name="appraisal-option"),
    path("appraisals/<int:pk>/options/<int:option_id>/delete/", views.delete_option, name="appraisal-option-delete"),
    path("appraisals/<int:pk>/settings/", views.edit_settings, name="appraisal-settings"),
    path("appraisals/<int:pk>/prefill/", views.prefill, name="appraisal-prefill"),
    path("appraisals/<int:pk>/weights/", views.weights, name="appraisal-weights"),
    path("appraisals/<int:pk>/report.pdf", views.report, name="appraisal-report"),
]
