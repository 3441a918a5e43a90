"""Public replies go through the site's publishing pipeline, unchanged: the draft-reply
action makes a ``MessageReplyPage`` draft under the site's ``MessageBoardPage`` (created, as a
draft, the first time) and submits it to the site's workflow — screening, the web
administrators' first review, the leader's signature — which alone takes it live and bakes
it. The message counts as answered when that publication happens (``reply_published``).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from wagtail.models import Page

from cms.interaction.actions import MessageAction
from cms.interaction.exceptions import NotAllowed, Refused
from cms.interaction.intake import check_text
from cms.interaction.models import (
    OPEN_STATUSES,
    Kind,
    Message,
    MessageBoardPage,
    MessageReplyPage,
    Status,
)
from cms.publishing import submit

BOARD_TITLE = "留言回复"
BOARD_SLUG = "liuyan"


def board_of(site_root: Page) -> MessageBoardPage | None:
    return MessageBoardPage.objects.child_of(site_root).first()


def ensure_board(site_root: Page, *, user) -> tuple[MessageBoardPage, bool]:
    """The site's board, made as a draft when it has none (True: just made)."""
    board = board_of(site_root)
    if board is not None:
        return board, False
    board = MessageBoardPage(title=BOARD_TITLE, slug=BOARD_SLUG, live=False, owner=user,
                             intro="本栏目公开答复网民的留言和咨询（已去除个人信息）。",
                             show_in_menus=False)
    site_root.add_child(instance=board)
    board.save_revision(user=user)
    return board, True


def paragraphs(text: str) -> str:
    """Plain text as rich text: one paragraph per line, escaped."""
    return "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())


class DraftReplyAction(MessageAction):
    """Write (or rewrite) the public reply to a message and submit it for review. What goes
    public is the question as the handler edited it (personal data removed) and the
    answer; the screening task checks both again."""

    action_name = "draft_reply"
    log_action = "interaction.draft_reply"

    def __init__(self, message: Message, *, user, title: str, question: str, reply: str):
        super().__init__(message, user=user)
        self.title, self.question, self.reply = title, question, reply

    def check(self, skip_permission_checks: bool = False) -> None:
        super().check(skip_permission_checks)
        if self.message.kind != Kind.MESSAGE:
            raise NotAllowed("举报不公开答复：请用“私下答复”，答复只向举报人显示。")
        if self.message.status not in OPEN_STATUSES:
            raise NotAllowed("这条留言已经处理完毕，不能再起草答复。")
        page = self.message.reply_page
        if page is not None and page.live:
            raise NotAllowed("这条留言的答复已经公开。")

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False) -> MessageReplyPage:
        self.check(skip_permission_checks)
        try:
            title = check_text(self.title, field="title", label="标题", max_chars=100)
            question = check_text(self.question, field="question", label="留言内容",
                                  max_chars=5000)
            reply = check_text(self.reply, field="reply", label="答复", max_chars=10000)
        except Refused as refusal:
            raise NotAllowed(refusal.message) from refusal
        site_root = self.message.sent_from
        board, board_created = ensure_board(site_root, user=self.user)
        page = self.message.reply_page.specific if self.message.reply_page_id else None
        if page is None:
            page = MessageReplyPage(
                title=title, slug=f"m-{self.message.pk}", live=False, owner=self.user,
                question=question, asked_on=timezone.localdate(self.message.received_at),
                reply=paragraphs(reply))
            board.add_child(instance=page)
        else:
            page.title, page.question, page.reply = title, question, paragraphs(reply)
            page.replied_on = timezone.localdate()
        page.save_revision(user=self.user)
        submit(page, user=self.user)
        if board_created or (not board.live and board.current_workflow_state is None):
            # The column itself is content too: it goes live only through the pipeline.
            submit(board, user=self.user)
        self.message.reply_page = page
        self.message.status = Status.REPLYING
        self.message.save(update_fields=["reply_page", "status"])
        self.finish({"page": page.pk, "board_submitted": board_created})
        return page


def mark_answered(*, page_id: int) -> int:
    """The messages answered by the reply page that has just gone live."""
    return Message.objects.filter(reply_page_id=page_id, answered_at__isnull=True).update(
        status=Status.ANSWERED, answered_at=timezone.now())


def reply_published(sender, instance, **kwargs) -> None:
    """``page_published``."""
    if issubclass(sender, MessageReplyPage):
        mark_answered(page_id=instance.pk)
