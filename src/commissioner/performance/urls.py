from django.urls import path

from commissioner.performance import upload, views

# OCDS ocids may hold '/', so the contract's sub-pages come before the contract page itself.
urlpatterns = [
    path("performance/", views.overview, name="performance"),
    path("performance/councils/<slug:slug>/compliance/", views.compliance, name="performance-compliance"),
    path("performance/councils/<slug:slug>/forward-plan/", views.forward_plan, name="performance-forward-plan"),
    path("performance/councils/<slug:slug>/opportunities/", views.opportunities, name="performance-opportunities"),
    path("performance/reminders/", views.reminders, name="performance-reminders"),
    path("performance/contracts/<path:ocid>/kpis/new/", views.kpi_new, name="performance-kpi-new"),
    path("performance/contracts/<path:ocid>/returns/new/", views.return_new, name="performance-return-new"),
    path("performance/contracts/<path:ocid>/returns/upload/", upload.returns_upload, name="performance-returns-upload"),
    path("performance/contracts/<path:ocid>/returns/<int:pk>/correct/", views.return_correct,
         name="performance-return-correct"),
    path("performance/contracts/<path:ocid>/assess/", views.assess, name="performance-assess"),
    path("performance/contracts/<path:ocid>/changes/new/", views.change_new, name="performance-change-new"),
    path("performance/contracts/<path:ocid>/events/new/", views.event_new, name="performance-event-new"),
    path("performance/contracts/<path:ocid>/exemption/", views.exemption, name="performance-exemption"),
    path("performance/contracts/<path:ocid>/<str:kind>/<int:pk>/retire/", views.retire, name="performance-retire"),
    path("performance/contracts/<path:ocid>/", views.contract_page, name="performance-contract"),
]
