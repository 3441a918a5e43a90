"""Workflow e-mail: the next stage's reviewers, and rejections with the comment."""

from django.core import mail

from cms.publishing import act, submit
from tests.conftest import make_user
from tests.review.world import PASSPHRASE, make_bulletin


def recipients(message) -> set[str]:
    return set(message.to)


def test_each_stage_notifies_the_next_reviewers_and_rejection_carries_the_comment(
        world, django_capture_on_commit_callbacks):
    teacher, admin, leader = (world.users[k] for k in ("author", "reviewer", "leader"))
    second_editor = make_user("editor2", world.editors)
    for user in (teacher, admin, leader, second_editor):
        user.email = f"{user.username}@school.example"
        user.save()
    article = make_bulletin(world, "单元教学设计", live=False, owner=teacher)
    with django_capture_on_commit_callbacks(execute=True):
        submit(article, user=teacher)
    [to_reviewers] = mail.outbox
    assert recipients(to_reviewers) == {"reviewer@school.example",
                                        "editor2@school.example"}
    assert "单元教学设计" in to_reviewers.subject and "初审" in to_reviewers.subject

    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=admin, action="approve", comment="")
    assert recipients(mail.outbox[-1]) == {"leader@school.example"}

    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=leader, action="reject", comment="请补充本单元的作业设计。",
            passphrase="")
    rejection = mail.outbox[-1]
    assert recipients(rejection) == {"author@school.example", "reviewer@school.example"}
    assert "请补充本单元的作业设计。" in rejection.body


def test_publication_tells_the_author(world, django_capture_on_commit_callbacks):
    teacher = world.users["author"]
    teacher.email = "t@school.example"
    teacher.save()
    article = make_bulletin(world, "期中复习课件", live=False, owner=teacher)
    submit(article, user=teacher)
    act(article, user=world.users["reviewer"], action="approve", comment="")
    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=world.users["leader"], action="approve", comment="",
            passphrase=PASSPHRASE)
    assert any("已审批发布" in m.subject and m.to == ["t@school.example"] for m in mail.outbox)
