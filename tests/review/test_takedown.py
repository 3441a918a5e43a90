"""Emergency takedown: at once, with a reason, registered, leaders told and acknowledging."""

from django.core import mail
from django.urls import reverse
from wagtail.models import Page

from review.models import RegisterEntry
from tests.review.world import make_bulletin


def test_administrator_takes_down_with_a_reason_and_a_leader_acknowledges(
        client, world, django_capture_on_commit_callbacks):
    leader = world.users["leader"]
    leader.email = "leader@school.example"
    leader.save()
    article = make_bulletin(world, "有误的招生简章")
    client.force_login(world.users["reviewer"])
    url = reverse("review_takedown", args=[article.pk])
    assert client.post(url, {"reason": ""}).status_code == 200  # a reason is required
    assert Page.objects.get(pk=article.pk).live
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "招生人数有误，须核实后重新发布。"})
    assert not Page.objects.get(pk=article.pk).live
    entry = RegisterEntry.objects.filter(object_id=str(article.pk)).latest("seq")
    assert entry.kind == "takedown" and entry.entry["signature"] is None
    record = entry.entry["approval"]
    assert record["operator"] == "reviewer"
    assert record["reason"] == "招生人数有误，须核实后重新发布。"
    assert any(m.to == ["leader@school.example"] and "紧急撤稿" in m.subject for m in mail.outbox)

    client.force_login(leader)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "待确认的紧急撤稿" in home and "有误的招生简章" in home
    client.post(reverse("review_acknowledge_takedown", args=[entry.pk]))
    assert entry.acknowledgement.leader == leader
    assert "待确认的紧急撤稿" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_any_unpublish_path_is_registered_as_a_takedown(client, world):
    from wagtail.models import APIToken

    article = make_bulletin(world, "经API撤下")
    _, token = APIToken.create_token(user=world.users["reviewer"], name="t")
    response = client.post(f"/api/v3/pages/{article.pk}/actions/unpublish/", {},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    entry = RegisterEntry.objects.filter(object_id=str(article.pk)).latest("seq")
    assert entry.kind == "takedown"
    assert entry.entry["published_by"] == "reviewer"
