"""create_school: what a new school gets, confinement of its rights, and bad input."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from wagtail.models import (
    Collection,
    CollectionViewRestriction,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Site,
    Workflow,
)

from cms.columns import TEACHER_COLUMN_KINDS
from cms.models import ColumnPage, OrganisationRole, SchoolHomePage


def counts():
    return (Site.objects.count(), Page.objects.count(), Group.objects.count(),
            Collection.objects.count(), GroupPagePermission.objects.count())


def create(**overrides):
    options = {"name": "城关县第三中学", "slug": "sanzhong", "hostname": "sanzhong.edu.example"}
    options.update(overrides)
    call_command("create_school", *[f"--{k}={v}" for k, v in options.items()])


@pytest.mark.django_db
def test_creates_site_home_columns_groups_and_collection():
    create()
    site = Site.objects.get(hostname="sanzhong.edu.example")
    home = site.root_page.specific
    assert isinstance(home, SchoolHomePage)
    assert home.title == "城关县第三中学"
    assert [c.title for c in ColumnPage.objects.child_of(home)] == [
        "学校概况", "校园动态", "通知公告", "教学园地", "教研教改", "教学资源",
    ]
    # The skeleton waits for the school's own review and approval, like any content.
    skeleton = [home, *ColumnPage.objects.child_of(home)]
    assert not any(page.live for page in skeleton)
    assert all(page.latest_revision_id for page in skeleton)
    workflow = home.get_workflow()
    assert [t.specific_class.__name__ for t in workflow.tasks] == [
        "ScreeningTask", "FirstReviewTask", "LeaderApprovalTask"]
    groups = {t.specific.name: set(t.specific.groups.all()) for t in workflow.tasks[1:]}
    assert groups == {
        "城关县第三中学 网站管理员初审": {Group.objects.get(name="城关县第三中学 网站管理员")},
        "城关县第三中学 领导审批": {Group.objects.get(name="城关县第三中学 领导")},
    }
    assert set(Group.objects.filter(organisation_role__home_page=home)
               .values_list("name", flat=True)) == {
        "城关县第三中学 网站管理员", "城关县第三中学 领导", "城关县第三中学 教师",
    }
    assert home.collection.name == "城关县第三中学"


@pytest.mark.django_db
def test_rights_are_confined_to_the_schools_subtree_and_collection():
    create()
    home = SchoolHomePage.objects.get(slug="sanzhong")
    groups = Group.objects.filter(organisation_role__home_page=home)
    page_rights = GroupPagePermission.objects.filter(group__in=groups)
    assert page_rights.exists()
    assert all(right.page.path.startswith(home.path) for right in page_rights)
    collection_rights = GroupCollectionPermission.objects.filter(group__in=groups)
    assert {right.collection_id for right in collection_rights} == {home.collection_id}

    teacher = groups.get(organisation_role__role="teacher")
    teacher_pages = {r.page.specific.kind for r in page_rights.filter(group=teacher)}
    assert teacher_pages == set(TEACHER_COLUMN_KINDS)
    assert not page_rights.filter(group=teacher, permission__codename="publish_page").exists()

    restriction = CollectionViewRestriction.objects.get(collection=home.collection)
    assert set(restriction.groups.all()) == set(groups)


@pytest.mark.django_db
def test_nobody_holds_rights_on_the_tree_root_and_default_groups_are_gone():
    create()
    assert not Group.objects.filter(name__in=["Moderators", "Editors"]).exists()
    assert not GroupPagePermission.objects.filter(page__depth=1).exists()
    # Wagtail's default "Moderators approval" workflow no longer governs the tree.
    assert not Workflow.objects.filter(active=True, workflow_pages__page__depth=1).exists()


@pytest.mark.django_db
def test_running_twice_is_a_clear_error_and_creates_nothing():
    create()
    before = counts()
    with pytest.raises(CommandError, match="已被使用"):
        create()
    with pytest.raises(CommandError, match="已被使用"):
        create(slug="other-slug", hostname="other.edu.example")  # same name
    with pytest.raises(CommandError, match="已被其他站点使用"):
        create(name="另一所学校", slug="another")  # same hostname
    assert counts() == before
    assert OrganisationRole.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "Bad_Slug"}, "标识"),
        ({"slug": "-lead"}, "标识"),
        ({"hostname": "http://x.example"}, "域名"),
        ({"hostname": "x.example:8000"}, "域名"),
        ({"name": "  "}, "名称"),
    ],
)
def test_bad_input_gives_a_clear_error_and_changes_nothing(overrides, message):
    before = counts()
    with pytest.raises(CommandError, match=message):
        create(**overrides)
    assert counts() == before


@pytest.mark.django_db
def test_a_schools_name_and_its_leaders_names_are_protected():
    """The screener reports a near miss of an organisation's or its leader's name with the right
    form (issue 20): cms feeds them through the review_protected_names hook."""
    from django.contrib.auth import get_user_model

    from cms.organisations import Role, group_name
    from review.screening.objects import current_lexicon
    from review.screening.screener import screen_text

    create()
    leader = get_user_model().objects.create_user("zhou", first_name="建国", last_name="周")
    leader.groups.add(Group.objects.get(name=group_name("城关县第三中学", Role.LEADER)))
    text = "城关县第三中雪召开家长会，周建帼校长讲话。城关县第三中学周建国校长出席。"
    found = [(f.match, f.suggestion) for f in screen_text(text, lexicon=current_lexicon())
             if f.kind == "expression"]
    assert found == [("城关县第三中雪", "城关县第三中学"), ("周建帼", "周建国")]
