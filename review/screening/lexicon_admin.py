"""The screening lexicon in the admin: sensitive words and allow-list phrases as snippets (add,
edit, delete, filter, search, export), their change history (django-simple-history) and the
results of rescans of live content after changes."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from review.screening.findings import Finding
from review.screening.models import (
    CATEGORY_LABELS,
    AllowListEntry,
    LexiconEntry,
    LexiconRescan,
    ProtectedName,
    TypoEntry,
    WordingRule,
)

HISTORY_PAGE_SIZE = 50
HISTORY_TYPES = {"+": "新增", "~": "修改", "-": "删除"}


class LexiconEntryViewSet(SnippetViewSet):
    model = LexiconEntry
    icon = "warning"
    menu_label = "敏感词"
    list_display = ["word", Column("category_label", label="类别"), "severity", "note",
                    "updated_at"]
    list_filter = ["category", "severity"]
    search_fields = ["word", "note"]
    list_export = ["word", "category", "severity", "note"]
    export_filename = "lexicon"
    ordering = ["category", "word"]


class AllowListEntryViewSet(SnippetViewSet):
    model = AllowListEntry
    icon = "tick"
    menu_label = "允许短语"
    list_display = ["word", "note", "updated_at"]
    search_fields = ["word", "note"]
    list_export = ["word", "note"]
    export_filename = "allow-list"


class ProtectedNameViewSet(SnippetViewSet):
    model = ProtectedName
    icon = "user"
    menu_label = "规范名称"
    list_display = ["name", "title", "note", "updated_at"]
    search_fields = ["name", "title", "note"]
    list_export = ["name", "title", "note"]
    export_filename = "protected-names"


class WordingRuleViewSet(SnippetViewSet):
    model = WordingRule
    icon = "doc-full"
    menu_label = "规范表述"
    list_display = ["wrong", "right", "severity", "note", "updated_at"]
    list_filter = ["severity"]
    search_fields = ["wrong", "right", "note"]
    list_export = ["wrong", "right", "severity", "note"]
    export_filename = "wording-rules"


class TypoEntryViewSet(SnippetViewSet):
    model = TypoEntry
    icon = "edit"
    menu_label = "易错词"
    list_display = ["wrong", "right", "updated_at"]
    search_fields = ["wrong", "right"]
    list_export = ["wrong", "right"]
    export_filename = "typos"


class ScreeningViewSetGroup(SnippetViewSetGroup):
    items = (LexiconEntryViewSet, AllowListEntryViewSet, ProtectedNameViewSet,
             WordingRuleViewSet, TypoEntryViewSet)
    menu_icon = "warning"
    menu_label = "内容检查词库"
    menu_name = "screening-lexicon"
    menu_order = 850


def user_may_manage_lexicon(user) -> bool:
    return user.has_perm("review.change_lexiconentry") or user.has_perm(
        "review.add_lexiconentry")


# The lists whose history the history page shows: key → (model, label, what a row shows).
HISTORY_LISTS = {
    "words": (LexiconEntry, "敏感词", lambda r: r.word),
    "allow": (AllowListEntry, "允许短语", lambda r: r.word),
    "names": (ProtectedName, "规范名称", lambda r: f"{r.title}{r.name}"),
    "wording": (WordingRule, "规范表述", lambda r: f"{r.wrong} → {r.right}"),
    "typos": (TypoEntry, "易错词", lambda r: f"{r.wrong} → {r.right}"),
}


def lexicon_history(request):
    """Who changed which word, name, rule or typo, when, and how: newest first."""
    if not user_may_manage_lexicon(request.user):
        raise PermissionDenied
    which = request.GET.get("which", "words")
    if which not in HISTORY_LISTS:
        which = "words"
    model, _, shown = HISTORY_LISTS[which]
    queryset = model.history.select_related("history_user").order_by("-history_date",
                                                                      "-history_id")
    page = Paginator(queryset, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
    rows = [{
        "date": record.history_date,
        "user": record.history_user,
        "type": HISTORY_TYPES.get(record.history_type, record.history_type),
        "word": shown(record),
        "category": CATEGORY_LABELS.get(getattr(record, "category", ""),
                                        getattr(record, "category", "")),
        "severity": getattr(record, "get_severity_display", lambda: "")(),
        "note": getattr(record, "note", ""),
        "changes": _changes(record),
    } for record in page.object_list]
    return render(request, "review/lexicon/history.html", {
        "page": page, "rows": rows, "which": which,
        "lists": [(key, label) for key, (_, label, _) in HISTORY_LISTS.items()],
    })


def _changes(record) -> str:
    previous = record.prev_record
    if previous is None or record.history_type != "~":
        return ""
    delta = record.diff_against(previous)
    return "；".join(f"{change.field}：{change.old} → {change.new}" for change in delta.changes
                    if change.field != "updated_at")


def rescans(request, rescan_id: int | None = None):
    """The latest rescans; one rescan's pages that now match."""
    if not user_may_manage_lexicon(request.user):
        raise PermissionDenied
    selected = (get_object_or_404(LexiconRescan, pk=rescan_id) if rescan_id
                else LexiconRescan.objects.filter(status=LexiconRescan.Status.DONE).first())
    matches = [{**match, "findings": [Finding.from_json(f) for f in match["findings"]]}
               for match in selected.matches] if selected else []
    return render(request, "review/lexicon/rescans.html", {
        "rescans": LexiconRescan.objects.all()[:20],
        "selected": selected,
        "matches": matches,
    })
