from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cms.sitechanges.models import SiteChange


class SiteChangeViewSet(SnippetViewSet):
    model = SiteChange
    icon = "site"
    menu_label = "站点与跳转变更"
    add_to_settings_menu = True
    list_display = ["__str__", "kind", "live"]


register_snippet(SiteChangeViewSet)
