"""The lean world review/'s tests run on: one site of plain pages (tests/testapp), two groups
— editors, who write and give the first review, and leaders, who sign — and one leader. A
test about more than one site builds another the same way (``build_world(prefix=...)``).

Nothing of the education domain (organisations, columns, roles) is in it: what passes here
passes for any Wagtail project that installs review/ and builds its workflow from review's
tasks."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from wagtail.models import (
    GroupPagePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from cms.publishing import publish_through_pipeline
from review.models import FirstReviewTask, LeaderApprovalTask, ScreeningTask
from review.pipeline.approvals import (
    build_approval,
    enrol_passphrase_credential,
    sign_with_passphrase,
)
from tests.shared import FAST_KDF, LEADER_PASSPHRASE, PASSWORD
from tests.testapp.models import BulletinPage

PASSPHRASE = LEADER_PASSPHRASE
EDITOR_PAGE_RIGHTS = ("add", "change", "lock", "unlock", "publish")


@dataclass(frozen=True, kw_only=True)
class World:
    site: Site
    home: BulletinPage
    editors: Group
    leaders: Group
    workflow: Workflow
    # author and reviewer are editors; leader is the one leader; root is a superuser.
    users: dict

    def reloaded(self) -> "World":
        """The same world, every object read again from the database."""
        users = get_user_model().objects.in_bulk([user.pk for user in self.users.values()])
        groups = Group.objects.in_bulk([self.editors.pk, self.leaders.pk])
        return World(site=Site.objects.get(pk=self.site.pk),
                     home=BulletinPage.objects.get(pk=self.home.pk),
                     editors=groups[self.editors.pk], leaders=groups[self.leaders.pk],
                     workflow=Workflow.objects.get(pk=self.workflow.pk),
                     users={key: users[user.pk] for key, user in self.users.items()})


def build_world(*, name: str = "公告栏", slug: str = "board", hostname: str = "board.test",
                prefix: str = "", superuser: bool = True) -> World:
    """One site of bulletins with its editors, its leader and its workflow. Another site
    (``prefix`` for its usernames, no second superuser) is another call."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=BulletinPage(title=name, slug=slug, live=False))
    site = Site.objects.create(hostname=hostname, port=80, root_page=home, site_name=name)
    editors = Group.objects.create(name=f"{name}·编辑")
    leaders = Group.objects.create(name=f"{name}·领导")
    admin_access = Permission.objects.get(content_type__app_label="wagtailadmin",
                                          codename="access_admin")
    for group, rights in ((editors, EDITOR_PAGE_RIGHTS), (leaders, ("change",))):
        group.permissions.add(admin_access)
        GroupPagePermission.objects.bulk_create(
            GroupPagePermission(group=group, page=home,
                                permission=Permission.objects.get(
                                    content_type__app_label="wagtailcore",
                                    codename=f"{action}_page"))
            for action in rights)
    workflow = _build_workflow(name=name, home=home, editors=editors, leaders=leaders)
    User = get_user_model()
    users = {role: User.objects.create_user(username=f"{prefix}{role}", password=PASSWORD)
             for role in ("author", "reviewer", "leader")}
    users["author"].groups.add(editors)
    users["reviewer"].groups.add(editors)
    users["leader"].groups.add(leaders)
    if superuser:
        users["root"] = User.objects.create_superuser(username="root", password=PASSWORD)
    enrol_passphrase_credential(user=users["leader"], passphrase=PASSPHRASE, kdf=FAST_KDF)
    world = World(site=site, home=home, editors=editors, leaders=leaders, workflow=workflow,
                  users=users)
    home.save_revision()
    publish(world, home)
    return world


def _build_workflow(*, name: str, home: Page, editors: Group, leaders: Group) -> Workflow:
    workflow = Workflow.objects.create(name=f"{name}发布审批")
    first_review = FirstReviewTask.objects.create(name=f"{name}编辑初审")
    first_review.groups.set([editors])
    approval = LeaderApprovalTask.objects.create(name=f"{name}领导审批")
    approval.groups.set([leaders])
    tasks = [ScreeningTask.objects.create(name=f"{name}自动内容检查"), first_review, approval]
    WorkflowTask.objects.bulk_create(WorkflowTask(workflow=workflow, task=task, sort_order=order)
                                     for order, task in enumerate(tasks))
    WorkflowPage.objects.create(page=home, workflow=workflow)
    return workflow


def make_bulletin(world: World, title: str, *, live: bool = True, parent: Page | None = None,
                  owner=None, slug: str | None = None) -> BulletinPage:
    """A bulletin under ``parent`` (the home page), a draft or published with the leader's
    signature."""
    page = BulletinPage(title=title, slug=slug or f"b-{BulletinPage.objects.count() + 1}",
                        owner=owner, live=False, body=f"<p>{title}的正文。</p>")
    (parent or world.home).add_child(instance=page)
    page.save_revision(user=owner)
    if live:
        publish(world, page, submitter=owner)
    page.refresh_from_db()
    return page


def sign(world: World, page, *, submitter=None, revision=None):
    """The leader signs an approval of the page's latest revision (first reviewed by the
    reviewer)."""
    page = type(page)._default_manager.get(pk=page.pk)
    revision = revision or page.get_latest_revision() or page.save_revision(user=submitter)
    payload = build_approval(revision=revision, operator=submitter,
                             first_reviewer=world.users["reviewer"],
                             approver=world.users["leader"], submitted_at=timezone.now())
    credential = world.users["leader"].signing_credentials.get(revoked_at=None)
    return sign_with_passphrase(credential=credential, passphrase=PASSPHRASE, payload=payload,
                                revision=revision)


def publish(world: World, page, *, submitter=None):
    """Sign and publish from code: the short way to live content for tests of other things."""
    approval = sign(world, page, submitter=submitter)
    approval.revision.publish(skip_permission_checks=True)
    return type(page)._default_manager.get(pk=page.pk)


def publish_via_workflow(world: World, page, *, submitter=None):
    """The whole pipeline: submitted by the author, first review, the leader's signature."""
    return publish_through_pipeline(page, submitter=submitter or world.users["author"],
                                    reviewer=world.users["reviewer"],
                                    leader=world.users["leader"], passphrase=PASSPHRASE)
