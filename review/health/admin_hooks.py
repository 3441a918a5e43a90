"""Site health in the admin and the schedule: its URLs, its menu item (shown to whoever sees
at least one site's health), and its periodic jobs (declared as plain dicts through the
``register_scheduled_jobs`` hook: review cannot import cms's ``Job``)."""

import datetime

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from review.health import sources, views


@hooks.register("register_admin_urls")
def register_health_urls():
    return [
        path("health/", views.index, name="review_health_index"),
        path("health/network.xlsx", views.xlsx, name="review_health_xlsx"),
        path("health/<slug:slug>/", views.site, name="review_health_site"),
        path("health/<slug:slug>/report.xlsx", views.xlsx, name="review_health_site_xlsx"),
        path("health/<slug:slug>/monthly/<str:month>/", views.monthly,
             name="review_health_monthly"),
        path("health/takedown/<int:target_id>/<int:page_id>/", views.takedown,
             name="review_health_takedown"),
    ]


@hooks.register("register_admin_menu_item")
def register_health_menu_item():
    class HealthMenuItem(MenuItem):
        def is_shown(self, request):
            visible = sources.visible_root_pages(request.user)
            return visible is None or bool(visible)

    return HealthMenuItem("网站健康", reverse("review_health_index"), icon_name="site",
                          order=850)


@hooks.register("register_scheduled_jobs")
def health_jobs():
    minutes = sources.setting("HEALTH_PROBE_MINUTES", 5)
    return [
        {"name": "probe_sites", "title": "网站可用性探测（首页）",
         "every": datetime.timedelta(minutes=minutes), "command": ("probe_sites",),
         "alert_after_failures": 6},
        {"name": "check_links", "title": "链接检查（站内与外部，外链变异）",
         "every": datetime.timedelta(days=1), "at": datetime.time(5, 0),
         "command": ("check_links", "--external")},
        {"name": "health_daily", "title": "网站健康日快照与日报",
         "every": datetime.timedelta(days=1), "at": datetime.time(7, 30),
         "command": ("health_daily",)},
    ]
