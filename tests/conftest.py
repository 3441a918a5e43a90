import functools
import io
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pytest_django.plugin import blocking_manager_key
from wagtail.documents import get_document_model
from wagtail.models import Collection, Page, Site, TaskState, Workflow, WorkflowState

from cms.models import ArticleAttachment, ArticlePage, ColumnPage, OrganisationRole, Role
from cms.organisations import Organisation, create_portal, create_school
from cms.publishing import publish_through_pipeline, submit
from review.pipeline.approvals import (
    build_approval,
    enrol_passphrase_credential,
    sign_with_passphrase,
)
from tests import template_database
from tests.shared import (
    FAST_KDF,
    LEADER_PASSPHRASE,
    PASSWORD,
    _close_kept_builds,  # noqa: F401 (a fixture kept builds use)
    close_shared_builds,
    group_readers_of_kept_builds,
    is_transactional,
    kept_build,
    module_build,
    read_shared,
    release_kept_builds,
    restore_migrated_data,
)

# Fixtures built once per module, and the module fixture that builds each.
SHARED_BUILDS = {"network": "_network_build", "demo": "_demo_build", "world": "_world_build"}


@dataclass
class Network:
    portal: Organisation
    school_a: Organisation
    school_b: Organisation
    users: dict[str, object] = field(default_factory=dict)

    def column(self, organisation: Organisation, slug: str) -> ColumnPage:
        return ColumnPage.objects.child_of(organisation.home_page).get(slug=slug)

    def reloaded(self) -> "Network":
        """The same network, every object read again from the database."""
        users = get_user_model().objects.in_bulk([user.pk for user in self.users.values()])
        return Network(portal=reloaded(self.portal), school_a=reloaded(self.school_a),
                       school_b=reloaded(self.school_b),
                       users={key: users[user.pk] for key, user in self.users.items()})


def reloaded(organisation: Organisation) -> Organisation:
    groups = Group.objects.in_bulk([group.pk for group in organisation.groups.values()])
    columns = ColumnPage.objects.in_bulk([column.pk for column in organisation.columns])
    return Organisation(
        home_page=Page.objects.get(pk=organisation.home_page.pk).specific,
        site=Site.objects.get(pk=organisation.site.pk),
        collection=Collection.objects.get(pk=organisation.collection.pk),
        groups={role: groups[group.pk] for role, group in organisation.groups.items()},
        workflow=Workflow.objects.get(pk=organisation.workflow.pk),
        columns=[columns[column.pk] for column in organisation.columns])


def make_user(username: str, *groups, superuser: bool = False):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username=username, password=PASSWORD)
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.add(*groups)
    return user


def role_member(page: Page, role: str, *, besides=None):
    """A member of ``role`` in the organisation ``page`` belongs to (not ``besides``)."""
    home = page.get_ancestors(inclusive=True).get(depth=2)
    group = OrganisationRole.objects.get(home_page=home, role=role).group
    members = group.user_set.order_by("pk")
    if besides is not None:
        members = members.exclude(pk=besides.pk)
    return members.first()


def publish_via_workflow(page: Page, *, submitter=None) -> Page:
    """The whole pipeline: submit, first review by an administrator, the leader signs."""
    return publish_through_pipeline(
        page, submitter=submitter,
        reviewer=role_member(page, Role.ADMINISTRATOR, besides=submitter),
        leader=role_member(page, Role.LEADER), passphrase=LEADER_PASSPHRASE,
    )


def sign(page: Page, *, submitter=None, revision=None):
    """The organisation's leader signs an approval of the page's latest revision."""
    page = Page.objects.get(pk=page.pk).specific
    revision = revision or page.get_latest_revision() or page.save_revision(user=submitter)
    leader = role_member(page, Role.LEADER)
    payload = build_approval(revision=revision, operator=submitter,
                             first_reviewer=role_member(page, Role.ADMINISTRATOR,
                                                        besides=submitter),
                             approver=leader, submitted_at=timezone.now())
    credential = leader.signing_credentials.get(revoked_at=None)
    return sign_with_passphrase(credential=credential, passphrase=LEADER_PASSPHRASE,
                                payload=payload, revision=revision)


def publish(page: Page, *, submitter=None) -> Page:
    """Sign and publish from code: the short way to live content for tests of other things
    (the guard and the register see it like any publication; the workflow has its own tests)."""
    approval = sign(page, submitter=submitter)
    approval.revision.publish(skip_permission_checks=True)
    return Page.objects.get(pk=page.pk).specific


def make_article(column: Page, title: str, *, live: bool = True, owner=None, slug=None,
                 date=None, attachments=()) -> ArticlePage:
    # A page saved without publishing is a draft: Wagtail's model default is live=True.
    article = ArticlePage(title=title, slug=slug or f"a-{ArticlePage.objects.count() + 1}",
                          owner=owner, live=False,
                          body=[("paragraph", f'<p data-block-key="k0">{title}的正文。</p>')])
    if date:
        article.date = date
    article.attachments = [ArticleAttachment(document=d) for d in attachments]
    column.add_child(instance=article)
    article.save_revision(user=owner)
    if live:
        publish(article, submitter=owner)
    article.refresh_from_db()
    return article


@functools.cache
def blank_pdf() -> bytes:
    """A real one-page PDF (the screener reads attachments; a fake one would be unreadable)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_document(organisation: Organisation, title: str, *, content: bytes | None = None,
                  filename: str = "file.pdf"):
    content = blank_pdf() if content is None else content
    Document = get_document_model()
    document = Document(title=title, collection=organisation.collection)
    document.file.save(filename, ContentFile(content), save=False)
    document._set_document_file_metadata()
    document.save()
    return document


def pytest_configure(config):
    template_database.start(config)


def pytest_unconfigure(config):
    template_database.finish()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """pytest-django's, plus: on PostgreSQL under xdist the test database is a copy of the
    controller's migrated template (tests/template_database.py)."""
    from django.conf import settings

    template_database.use_template(settings.DATABASES["default"])


# Before pytest-django's (also tryfirst, registered earlier, so called later), whose stable
# sort by phase keeps this hook's order of modules within each phase.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A transactional test (the live server, SQLite's online backup) ends by flushing every
    table, the migrations' data with them (Wagtail's root page, default site, collections):
    the next such test on the worker would start without. Serialized rollback restores that
    data at the start of each, and keeps the flush from re-creating content types under it.

    A test that reads a shared build (SHARED_BUILDS) has the build's module fixture set up
    first, before the test's own transaction opens, so the build is the outer transaction; and
    the modules reading a kept build run one after another, so that it is built once per worker
    rather than once per module."""
    for item in items:
        if is_transactional(item):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True),
                            append=False)
            continue
        names = getattr(item, "fixturenames", None)
        if names is None:
            continue
        for fixture, build in SHARED_BUILDS.items():
            if fixture in names and build not in names:
                names.insert(0, build)
    group_readers_of_kept_builds(items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A transactional test commits and flushes: no shared build's transaction may be open."""
    if is_transactional(item):
        close_shared_builds()
    else:
        release_kept_builds(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by flushing every table: the migrations' data goes with the
    rest. Put it back, so that the tests after it on this worker (a module's shared build
    among them) start from the migrated database, as Django's test runner guarantees."""
    result = yield
    # The last test on a worker has nothing after it (and its teardown has already dropped
    # the test database, with the session's fixtures).
    if is_transactional(item) and nextitem is not None:
        restore_migrated_data(item.config.stash[blocking_manager_key])
    return result


def build_network() -> Network:
    """The portal and two schools, each role's people, the leaders' keys and the published
    skeleton: the world most tests start from."""
    net = Network(
        portal=create_portal(name="测试县教育局", hostname="portal.test"),
        school_a=create_school(name="甲中学", slug="jia", hostname="jia.test"),
        school_b=create_school(name="乙中学", slug="yi", hostname="yi.test"),
    )
    for key, organisation in (("county", net.portal), ("a", net.school_a), ("b", net.school_b)):
        for role, group in organisation.groups.items():
            net.users[f"{key}_{role}"] = make_user(f"{key}_{role}", group)
        net.users[f"{key}_editor"] = make_user(f"{key}_editor",
                                               organisation.groups[Role.ADMINISTRATOR])
        enrol_passphrase_credential(user=net.users[f"{key}_leader"],
                                    passphrase=LEADER_PASSPHRASE, kdf=FAST_KDF)
        for page in organisation.skeleton:
            publish(page)
    net.users["superuser"] = make_user("root", superuser=True)
    return net


_network_build = kept_build(build_network, name="_network_build")


@pytest.fixture
def network(request, db) -> Network:
    """The network, built once per module (rolled back to that state after each test) and read
    again from the database for each test; a transactional test builds its own."""
    return read_shared(request, build_fixture="_network_build", build=build_network).reloaded()


def build_demo_network() -> str:
    """``manage.py demo --articles 30`` (the demo network and thirty generated articles); what
    it printed."""
    out = io.StringIO()
    call_command("demo", "--articles", "30", stdout=out)
    return out.getvalue()


_demo_build = module_build(build_demo_network)


@pytest.fixture
def demo(request, db) -> str:
    """The demo network, as ``manage.py demo --articles 30`` builds it, once per module; the
    command's output. (A module using it should not also hold tests that want an empty
    database: the build is there for the whole module.)"""
    return read_shared(request, build_fixture="_demo_build", build=build_demo_network)


@pytest.fixture(autouse=True)
def _fresh_api_throttle() -> None:
    """API token throttling counts (a cache of their own in the test settings) start empty:
    one test's bad tokens must not throttle the next."""
    from django.core.cache import caches

    caches["throttle"].clear()


@pytest.fixture
def update_index(db) -> None:
    """Search tests opt in: builds skip the search index, this indexes what is there now."""
    call_command("update_index", stdout=io.StringIO(), stderr=io.StringIO())


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG, made with the standard library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@pytest.fixture
def submitted(network):
    """A teacher's draft in school A's 教学园地, submitted for review."""
    teacher = network.users["a_teacher"]
    article = make_article(network.column(network.school_a, "teaching"), "初二物理教学反思",
                           live=False, owner=teacher)
    submit(article, user=teacher)
    return article


def task_state(page) -> TaskState:
    return WorkflowState.objects.get(object_id=str(page.pk), status="in_progress") \
        .current_task_state.specific


def act(client, user, page, action, data=None):
    """Post a workflow action as ``user`` through the admin's workflow action view."""
    client.force_login(user)
    state = task_state(page)
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, action, state.pk])
    return client.post(url, data or {})
