from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from backups import views


@hooks.register("register_admin_urls")
def urls():
    return [path("backups/capture/", views.capture, name="backups_capture")]


@hooks.register("register_admin_menu_item")
def capture_menu_item():
    class DocumentAddersMenuItem(MenuItem):
        def is_shown(self, request):
            return views.collections_for(request.user).exists()

    return DocumentAddersMenuItem("网络采集", reverse("backups_capture"), name="capture",
                                  icon_name="doc-full-inverse", order=410)
