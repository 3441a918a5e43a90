"""Admin screens for semesters (network-wide) and teaching groups (per school), through the
test client: who manages, who only views, and that school A's administrator never reaches
school B's groups."""

import pytest
from django.urls import reverse

from cms.resources.models import Semester, TeachingGroup

SEMESTER = {"start_year": 2031, "term": 1, "start_date": "2031-09-01",
            "end_date": "2032-01-20"}


def url(model: str, view: str, *args) -> str:
    return reverse(f"wagtailsnippets_resources_{model}:{view}", args=args)


def as_user(client, network, name):
    client.force_login(network.users[name])
    return client


def refused(response) -> bool:
    """Wagtail answers a missing right with 403 or a redirect to the dashboard."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home"))


# --- Semesters -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["county_administrator", "superuser"])
def test_bureau_administrators_create_and_edit_semesters(client, network, name):
    as_user(client, network, name)
    assert client.get(url("semester", "list")).status_code == 200
    response = client.post(url("semester", "add"), SEMESTER)
    assert response.status_code == 302, response.content.decode()[:2000]
    semester = Semester.objects.get(code="2031-2032-1")
    response = client.post(url("semester", "edit", semester.pk),
                           {**SEMESTER, "end_date": "2032-01-25"})
    assert response.status_code == 302
    semester.refresh_from_db()
    assert str(semester.end_date) == "2032-01-25"


def test_a_semester_must_end_after_it_starts(client, network):
    as_user(client, network, "county_administrator")
    response = client.post(url("semester", "add"), {**SEMESTER, "end_date": "2031-08-01"})
    assert response.status_code == 200
    assert "结束日期必须晚于开始日期" in response.content.decode()
    assert not Semester.objects.exists()


@pytest.mark.parametrize("name", ["a_administrator", "a_leader", "a_teacher", "county_leader"])
def test_school_staff_only_view_semesters(client, network, semester, name):
    as_user(client, network, name)
    response = client.get(url("semester", "list"))
    assert response.status_code == 200 and semester.name in response.content.decode()
    assert client.get(url("semester", "inspect", semester.pk)).status_code == 200
    assert refused(client.get(url("semester", "add")))
    assert refused(client.post(url("semester", "add"), SEMESTER))
    assert refused(client.post(url("semester", "edit", semester.pk),
                               {**SEMESTER, "start_year": semester.start_year}))
    assert refused(client.post(url("semester", "delete", semester.pk)))
    assert list(Semester.objects.values_list("pk", flat=True)) == [semester.pk]
    semester.refresh_from_db()
    assert semester.start_year != SEMESTER["start_year"]


def test_a_user_of_no_organisation_gets_no_semesters(client, network, semester):
    from tests.conftest import make_user

    outsider = make_user("outsider")
    client.force_login(outsider)
    assert client.get(url("semester", "list")).status_code in (302, 403)


# --- Teaching groups ---------------------------------------------------------------------


def group_form(network, *, school, leader, subject="物理") -> dict:
    return {"school": school.home_page.pk, "subject": subject,
            "leader": network.users[leader].pk}


def test_a_school_administrator_manages_their_schools_groups(client, network):
    as_user(client, network, "a_administrator")
    response = client.post(url("teachinggroup", "add"),
                           group_form(network, school=network.school_a, leader="a_teacher"))
    assert response.status_code == 302, response.content.decode()[:2000]
    group = TeachingGroup.objects.get()
    assert (group.school_id, group.leader, group.subject) == (
        network.school_a.home_page.pk, network.users["a_teacher"], "物理")
    response = client.post(url("teachinggroup", "edit", group.pk),
                           group_form(network, school=network.school_a, leader="a_leader"))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.leader == network.users["a_leader"]


def test_a_school_administrator_never_reaches_another_schools_groups(client, network):
    theirs = TeachingGroup.objects.create(school=network.school_b.home_page, subject="数学",
                                          leader=network.users["b_teacher"])
    as_user(client, network, "a_administrator")
    listing = client.get(url("teachinggroup", "list"))
    assert listing.status_code == 200 and "数学" not in listing.content.decode()
    for view in ("edit", "inspect", "delete"):
        assert client.get(url("teachinggroup", view, theirs.pk)).status_code == 404
    assert client.post(url("teachinggroup", "edit", theirs.pk),
                       group_form(network, school=network.school_b, leader="b_leader",
                                  subject="数学")).status_code == 404
    assert client.post(url("teachinggroup", "delete", theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.leader == network.users["b_teacher"]
    # Nor can they create one for school B, nor name school B's teacher.
    response = client.post(url("teachinggroup", "add"),
                           group_form(network, school=network.school_b, leader="b_teacher"))
    assert response.status_code == 200
    response = client.post(url("teachinggroup", "add"),
                           group_form(network, school=network.school_a, leader="b_teacher"))
    assert response.status_code == 200
    assert list(TeachingGroup.objects.all()) == [theirs]


def test_the_leader_must_be_staff_of_the_school(client, network):
    as_user(client, network, "superuser")
    response = client.post(url("teachinggroup", "add"),
                           group_form(network, school=network.school_a, leader="b_teacher"))
    assert response.status_code == 200
    assert "教研组长必须是本校的教职工" in response.content.decode()
    assert not TeachingGroup.objects.exists()


def test_one_group_per_subject_and_school(client, network):
    TeachingGroup.objects.create(school=network.school_a.home_page, subject="物理",
                                 leader=network.users["a_teacher"])
    as_user(client, network, "a_administrator")
    response = client.post(url("teachinggroup", "add"),
                           group_form(network, school=network.school_a, leader="a_leader"))
    assert response.status_code == 200
    assert TeachingGroup.objects.count() == 1


def test_teachers_do_not_manage_groups_and_the_bureau_only_views(client, network):
    group = TeachingGroup.objects.create(school=network.school_a.home_page, subject="物理",
                                         leader=network.users["a_teacher"])
    as_user(client, network, "a_teacher")
    assert refused(client.get(url("teachinggroup", "list")))
    assert refused(client.post(url("teachinggroup", "add"),
                               group_form(network, school=network.school_a,
                                          leader="a_teacher", subject="化学")))
    as_user(client, network, "county_administrator")
    listing = client.get(url("teachinggroup", "list"))
    assert listing.status_code == 200 and "物理" in listing.content.decode()
    assert client.get(url("teachinggroup", "inspect", group.pk)).status_code == 200
    assert refused(client.post(url("teachinggroup", "edit", group.pk),
                               group_form(network, school=network.school_a,
                                          leader="a_leader")))
    group.refresh_from_db()
    assert group.leader == network.users["a_teacher"]
    assert TeachingGroup.objects.count() == 1
