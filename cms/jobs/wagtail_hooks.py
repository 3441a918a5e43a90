from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.jobs import views


@hooks.register("register_admin_urls")
def urls():
    return [path("jobs/", views.schedule, name="jobs_schedule")]


@hooks.register("register_admin_menu_item")
def schedule_menu_item():
    class BureauMenuItem(MenuItem):
        def is_shown(self, request):
            return views.may_see_jobs(request.user)

    return BureauMenuItem("定时任务", reverse("jobs_schedule"), name="jobs", icon_name="time",
                          order=950)
