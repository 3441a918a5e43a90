"""Workflow e-mail: the next stage's reviewers, and rejections with the comment."""

from django.core import mail

from cms.publishing import act, submit
from tests.conftest import LEADER_PASSPHRASE, make_article


def recipients(message) -> set[str]:
    return set(message.to)


def test_each_stage_notifies_the_next_reviewers_and_rejection_carries_the_comment(
        network, django_capture_on_commit_callbacks):
    teacher, admin, leader = (network.users[k] for k in ("a_teacher", "a_administrator",
                                                          "a_leader"))
    for user in (teacher, admin, leader, network.users["a_editor"]):
        user.email = f"{user.username}@school.example"
        user.save()
    article = make_article(network.column(network.school_a, "teaching"), "单元教学设计",
                           live=False, owner=teacher)
    with django_capture_on_commit_callbacks(execute=True):
        submit(article, user=teacher)
    [to_reviewers] = mail.outbox
    assert recipients(to_reviewers) == {"a_administrator@school.example",
                                        "a_editor@school.example"}
    assert "单元教学设计" in to_reviewers.subject and "初审" in to_reviewers.subject

    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=admin, action="approve", comment="")
    assert recipients(mail.outbox[-1]) == {"a_leader@school.example"}

    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=leader, action="reject", comment="请补充本单元的作业设计。",
            passphrase="")
    rejection = mail.outbox[-1]
    assert recipients(rejection) == {"a_teacher@school.example", "a_administrator@school.example"}
    assert "请补充本单元的作业设计。" in rejection.body


def test_publication_tells_the_author(network, django_capture_on_commit_callbacks):
    teacher = network.users["a_teacher"]
    teacher.email = "t@school.example"
    teacher.save()
    article = make_article(network.column(network.school_a, "teaching"), "期中复习课件",
                           live=False, owner=teacher)
    submit(article, user=teacher)
    act(article, user=network.users["a_administrator"], action="approve", comment="")
    with django_capture_on_commit_callbacks(execute=True):
        act(article, user=network.users["a_leader"], action="approve", comment="",
            passphrase=LEADER_PASSPHRASE)
    assert any("已审批发布" in m.subject and m.to == ["t@school.example"] for m in mail.outbox)
