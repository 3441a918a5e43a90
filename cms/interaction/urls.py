from django.urls import path

from cms.interaction import public

urlpatterns = [
    path("message/", public.message_form, name="interaction_message"),
    path("report/", public.report_form, name="interaction_report"),
    path("status/", public.status, name="interaction_status"),
]
