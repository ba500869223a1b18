from django.urls import path

from commissioner.feedback import views

# OCDS ocids may hold '/', so the sub-pages come before the service's page itself.
urlpatterns = [
    path("feedback/", views.index, name="feedback-index"),
    path("feedback/policy/", views.policy, name="feedback-policy"),
    path("feedback/services/<path:ocid>/share/", views.share_service, name="feedback-service-share"),
    path("feedback/services/<path:ocid>/export/", views.export_service, name="feedback-service-export"),
    path("feedback/services/<path:ocid>/", views.service_page, name="feedback-service"),
    path("feedback/providers/<int:pk>/share/", views.share_provider, name="feedback-provider-share"),
    path("feedback/providers/<int:pk>/export/", views.export_provider, name="feedback-provider-export"),
    path("feedback/providers/<int:pk>/", views.provider_page, name="feedback-provider"),
    path("feedback/stories/<int:pk>/", views.story_page, name="feedback-story"),
    path("feedback/stories/<int:pk>/report/", views.report, name="feedback-report"),
    path("feedback/stories/<int:pk>/reply/", views.reply, name="feedback-reply"),
    path("feedback/stories/<int:pk>/moderate/", views.moderate, name="feedback-moderate"),
    path("feedback/moderation/", views.moderation_page, name="feedback-moderation"),
    path("feedback/moderation/<int:pk>/", views.moderate_from_queue, name="feedback-moderate-queue"),
    path("feedback/moderation/block/", views.block_add, name="feedback-block-add"),
    path("feedback/moderation/block/<int:pk>/remove/", views.block_remove, name="feedback-block-remove"),
    path("feedback/account/", views.account, name="feedback-account"),
    path("feedback/account/register/", views.register, name="feedback-register"),
    path("feedback/account/registered/", views.registered, name="feedback-registered"),
    path("feedback/account/confirm/resend/", views.resend, name="feedback-resend"),
    path("feedback/account/confirm/<str:token>/", views.confirm, name="feedback-confirm"),
    path("feedback/account/my-data.json", views.account_data, name="feedback-account-data"),
    path("feedback/account/erase/", views.erase, name="feedback-erase"),
]
