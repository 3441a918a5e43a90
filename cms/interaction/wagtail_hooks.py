from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.interaction import health, scope, views
from cms.interaction.actions import LOG_ACTIONS


@hooks.register("register_admin_urls")
def register_interaction_urls():
    return [
        path("interaction/", views.queue, name="interaction_queue"),
        path("interaction/<int:pk>/", views.detail, name="interaction_detail"),
        path("interaction/stats/", views.stats_view, name="interaction_stats"),
        path("interaction/handlers/", views.handlers_view, name="interaction_handlers"),
    ]


class ScopedMenuItem(MenuItem):
    """Shown by ``shown(user)``, asked once per request whatever the number of items (the
    admin menu is rendered on every admin page)."""

    def __init__(self, *args, shown, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = shown

    def is_shown(self, request):
        answers = request.__dict__.setdefault("_interaction_menu", {})
        if self.shown not in answers:
            answers[self.shown] = self.shown(request.user)
        return answers[self.shown]


def _administers(user) -> bool:
    return bool(scope.administered_orgs(user))


@hooks.register("register_admin_menu_item")
def interaction_menu_item():
    return ScopedMenuItem("留言与举报", reverse("interaction_queue"), name="interaction",
                          icon_name="mail", order=130, shown=scope.uses_interaction)


@hooks.register("register_settings_menu_item")
def handlers_menu_item():
    return ScopedMenuItem("留言处理人", reverse("interaction_handlers"),
                          name="interaction-handlers", icon_name="user", order=700,
                          shown=_administers)


@hooks.register("register_reports_menu_item")
def stats_menu_item():
    return ScopedMenuItem("留言统计", reverse("interaction_stats"), name="interaction-stats",
                          icon_name="table", order=690, shown=scope.uses_interaction)


@hooks.register("register_log_actions")
def register_interaction_log_actions(actions):
    for name, label in LOG_ACTIONS.items():
        actions.register_action(name, label, label)


# The inspection's line for public messages (unanswered for three months fails a site) and
# the early warning before it, on the site-health dashboard and in ``site_health``.
hooks.register("review_health_public_messages", health.counts_by_organisation)
