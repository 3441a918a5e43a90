"""Builds the demo network and, for benchmarks, bulk-generated articles."""

import base64
import datetime
import io
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.core.management import call_command
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from modelcluster.models import get_all_child_relations
from wagtail.documents import get_document_model
from wagtail.models import Locale, Page, Revision

from cms.accounts.demo import give_demo_second_factors
from cms.columns import ColumnKind
from cms.demo import content
from cms.demo.make_files import DOCXS, PDFS
from cms.exceptions import DemoError
from cms.interaction.demo import build_interaction_demo
from cms.models import (
    ArticleAttachment,
    ArticlePage,
    ColumnPage,
    OrganisationRole,
    PortalPage,
    Role,
    SchoolHomePage,
)
from cms.organisations import create_portal, create_school
from cms.publishing import publish_through_pipeline
from cms.resources.demo import build_resource_demo
from review import keys
from review.canonical import canonical_json
from review.models import Approval, RegisterEntry, SigningCredential
from review.pipeline.approvals import enrol_passphrase_credential, object_content_sha256
from review.register.entries import append_many, iso_utc
from review.screening.rescan import one_rescan

FILES_DIR = Path(__file__).parent / "files"
GENERATED_BATCH = 2000
CHILD_RELATIONS = [r.get_accessor_name() for r in get_all_child_relations(ArticlePage)]
User = get_user_model()


def has_content() -> bool:
    """True once anything beyond Wagtail's stock welcome page exists."""
    return (
        PortalPage.objects.exists()
        or SchoolHomePage.objects.exists()
        or Page.objects.filter(depth__gte=3).exists()
    )


def existing_demo_accounts() -> list[tuple[str, str, str, str]]:
    names = set(User.objects.filter(username__in=[a[0] for a in content.ACCOUNTS])
                .values_list("username", flat=True))
    return [account for account in content.ACCOUNTS if account[0] in names]


# The demo leaders' passphrase is printed in the README: a memory-hard derivation guards
# nothing there, and at production cost (0.25 s) the demo's 66 derivations were a third of
# its build. Leaders enrolling their own keys get the default (review.keys.KdfParams), and so
# do the demo's with ``demo --production-keys`` (benchmarks that time signing).
DEMO_SIGNING_KDF = keys.KdfParams(memory_kib=8 * 1024, iterations=1)


def demo_signing_kdf(*, production_keys: bool) -> keys.KdfParams:
    return keys.KdfParams() if production_keys else DEMO_SIGNING_KDF


@transaction.atomic
def build_demo(*, port: int = 8000,
               signing_kdf: keys.KdfParams = DEMO_SIGNING_KDF) -> dict[str, int]:
    """The demo network, every live page of it published through the real pipeline; the
    leaders' keys sealed with ``signing_kdf``."""
    if has_content():
        raise DemoError("数据库中已有内容，演示数据只能在空数据库上创建。"
                        "如需重建，请先删除 CMS_DATA_DIR 目录（默认 ./var/）。")
    _import_starter_lexicon()
    organisations = {"portal": create_portal(name=content.PORTAL["name"],
                                             hostname=content.PORTAL["hostname"], port=port)}
    for school in content.SCHOOLS:
        organisations[school["slug"]] = create_school(
            name=school["name"], slug=school["slug"], hostname=school["hostname"], port=port
        )
    users = _create_accounts(organisations, signing_kdf=signing_kdf)
    give_demo_second_factors(users=users.values())
    details = {"portal": content.PORTAL, **{s["slug"]: s for s in content.SCHOOLS}}
    for key, organisation in organisations.items():
        home = organisation.home_page
        for field in ("intro", "address", "phone"):
            setattr(home, field, details[key].get(field, ""))
        home.icp_number = content.PORTAL["icp_number"]
        home.save()
        home.save_revision(user=users[f"{_prefix(key)}_admin"])
        about = ColumnPage.objects.child_of(home).get(slug="about")
        about.intro = content.ABOUT[key]
        about.save()
        about.save_revision(user=users[f"{_prefix(key)}_admin"])
        # The bureau provisioned the skeleton: no submitter; the school reviews and signs.
        for page in organisation.skeleton:
            publish_through_pipeline(page, submitter=None, **_reviewers(key, users))

    documents = _create_documents(organisations, users)
    articles = 0
    for key, organisation in organisations.items():
        for column_slug, items in content.ARTICLES[key].items():
            column = ColumnPage.objects.child_of(organisation.home_page).get(slug=column_slug)
            for number, item in enumerate(items, start=1):
                _add_article(column, item, users, key, documents, slug=f"{item[1]}-{number}")
                articles += 1
    scheduled = _add_scheduled_article(organisations["portal"], users)
    build_resource_demo(organisations=organisations, users=users)
    build_interaction_demo(organisations=organisations, users=users)
    return {"organisations": len(organisations), "users": len(users), "articles": articles,
            "documents": len(documents), "scheduled": scheduled}


def _add_scheduled_article(organisation, users) -> ArticlePage:
    """A notice signed now to go live ``content.SCHEDULED_AFTER`` later: the scheduler
    (``./dev.sh start`` runs it) publishes it on time."""
    title, source, author, paragraphs = content.SCHEDULED_ARTICLE
    column = ColumnPage.objects.child_of(organisation.home_page).get(slug="notices")
    editor = users["county_editor"]
    article = ArticlePage(title=title, slug="scheduled-notice", live=False, source=source,
                          author=author, owner=editor, date=timezone.localdate(),
                          go_live_at=timezone.now() + content.SCHEDULED_AFTER,
                          body=[("paragraph", "".join(f"<p>{p}</p>" for p in paragraphs))])
    column.add_child(instance=article)
    article.save_revision(user=editor)
    return publish_through_pipeline(article, submitter=editor,
                                    **_reviewers("portal", users))


def _import_starter_lexicon() -> None:
    """The screening lexicon we ship (review/lexicon/): operators add official lists."""
    lexicon = settings.BASE_DIR / "review" / "lexicon"
    with one_rescan(reason="", rescan=False):
        call_command("import_lexicon", str(lexicon / "starter.csv"), verbosity=0,
                     stdout=io.StringIO())
        call_command("import_lexicon", str(lexicon / "allow.csv"), "--allow", verbosity=0,
                     stdout=io.StringIO())
        # Protected names, wording rules and typos (issue 20): our starter lists.
        for command, name in (("import_names", "names.csv"), ("import_wording", "wording.csv"),
                              ("import_typos", "typos.csv")):
            call_command(command, str(lexicon / name), verbosity=0, stdout=io.StringIO())


def _prefix(key: str) -> str:
    return "county" if key == "portal" else key


def _reviewers(key: str, users) -> dict:
    return {"reviewer": users[f"{_prefix(key)}_admin"], "leader": users[f"{_prefix(key)}_leader"],
            "passphrase": content.DEMO_SIGNING_PASSPHRASE}


def _create_accounts(organisations, *, signing_kdf: keys.KdfParams) -> dict[str, "User"]:
    users = {}
    for username, display_name, organisation_key, role in content.ACCOUNTS:
        if role == "superuser":
            user = User.objects.create_superuser(username=username, password=content.DEMO_PASSWORD,
                                                 email=f"{username}@example.cn")
        else:
            user = User.objects.create_user(username=username, password=content.DEMO_PASSWORD,
                                            email=f"{username}@example.cn")
            user.groups.add(organisations[organisation_key].groups[role])
        if role == "leader":
            enrol_passphrase_credential(user=user, passphrase=content.DEMO_SIGNING_PASSPHRASE,
                                        name="演示口令密钥", kdf=signing_kdf)
        user.first_name = display_name
        user.save(update_fields=["first_name"])
        users[username] = user
    return users


def _create_documents(organisations, users) -> dict[str, object]:
    """One Document per demo file, in the collection of the organisation that attaches it."""
    Document = get_document_model()
    owners = {name: key for key, columns in content.ARTICLES.items()
              for items in columns.values() for item in items for name in item[5]}
    titles = {v: k for k, v in _file_titles().items()}
    documents = {}
    for filename, key in owners.items():
        document = Document(title=titles.get(filename, filename),
                            collection=organisations[key].collection,
                            uploaded_by_user=users[f"{_prefix(key)}_editor"])
        with open(FILES_DIR / filename, "rb") as handle:
            document.file.save(filename, File(handle), save=False)
        document._set_document_file_metadata()
        document.save()
        documents[filename] = document
    return documents


def _file_titles() -> dict[str, str]:
    return {**PDFS, **DOCXS}


def _add_article(column, item, users, key, documents, *, slug: str) -> ArticlePage:
    """Teachers submit teaching material, editors everything else; then review and sign."""
    title, date, source, author, paragraphs, files = item
    teacher_column = column.kind in (ColumnKind.TEACHING, ColumnKind.RESEARCH, ColumnKind.RESOURCES)
    submitter = users[f"{_prefix(key)}_teacher1" if teacher_column and key != "portal"
                      else f"{_prefix(key)}_editor"]
    article = ArticlePage(
        title=title, slug=slug, live=False,
        date=datetime.date.fromisoformat(date),
        source=source,
        author=author,
        owner=submitter,
        body=[("paragraph", "".join(f"<p>{p}</p>" for p in paragraphs))],
    )
    article.attachments = [ArticleAttachment(document=documents[name]) for name in files]
    column.add_child(instance=article)
    article.save_revision(user=submitter)
    return publish_through_pipeline(article, submitter=submitter, **_reviewers(key, users))


def add_generated_articles(*, count: int, progress: Callable[[int], None] | None = None,
                           seed: int = 2026) -> int:
    """Add ``count`` live articles spread over every listing column, in bulk.

    Rows are written with bulk inserts (treebeard paths computed here), a revision each,
    so that 100,000 pages take seconds rather than the hour ``add_child`` would. Each is
    signed by its organisation's demo leader and registered, like any live article.
    The search index is not updated: run ``manage.py update_index`` afterwards if needed.
    """
    if count < 1:
        raise DemoError("--articles 必须是正整数。")
    columns = list(ColumnPage.objects.exclude(kind__in=[ColumnKind.LINK, ColumnKind.STATIC])
                   .order_by("path"))
    if not columns:
        raise DemoError("没有可以添加文章的栏目：请先运行 manage.py demo 创建演示网站。")
    rng = random.Random(seed)
    per_column = [count // len(columns) + (1 if i < count % len(columns) else 0)
                  for i in range(len(columns))]
    article_type = ContentType.objects.get_for_model(ArticlePage)
    page_type = ContentType.objects.get_for_model(Page)
    locale = Locale.get_default()
    owners = {role.home_page_id: role.group.user_set.first()
              for role in OrganisationRole.objects.filter(role=Role.ADMINISTRATOR)
              .select_related("group")}
    done = 0
    for column, n in zip(columns, per_column, strict=True):
        home_id = column.get_ancestors().filter(depth=2).values_list("pk", flat=True).first()
        owner = owners.get(home_id)
        signers = _signers_for(home_id)
        last = column.get_last_child()
        next_step = (int(last.path[-ArticlePage.steplen:], 36) + 1) if last else 1
        for start in range(0, n, GENERATED_BATCH):
            size = min(GENERATED_BATCH, n - start)
            with transaction.atomic():
                _insert_batch(column=column, first_step=next_step + start, size=size, rng=rng,
                              owner=owner, article_type=article_type, page_type=page_type,
                              locale=locale, signers=signers)
            done += size
            if progress:
                progress(done)
        Page.objects.filter(pk=column.pk).update(numchild=column.numchild + n)
    return done


def _insert_batch(*, column, first_step, size, rng, owner, article_type, page_type, locale,
                  signers):
    now = timezone.now()
    pages, bodies = [], []
    for i in range(size):
        step = first_step + i
        topic = rng.choice(content.GENERATED_TOPICS)
        published = now - datetime.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        slug = f"a{step}"
        title = f"{column.title}：{published:%Y年%-m月}{topic}（{step}）"
        pages.append(Page(
            title=title, draft_title=title, slug=slug, content_type=article_type,
            path=ArticlePage._get_path(column.path, column.depth + 1, step),
            depth=column.depth + 1, numchild=0, url_path=f"{column.url_path}{slug}/",
            live=True, has_unpublished_changes=False, first_published_at=published,
            last_published_at=published, latest_revision_created_at=published,
            owner=owner, locale=locale, translation_key=uuid.uuid4(),
        ))
        sentences = rng.sample(content.GENERATED_SENTENCES, 3)
        bodies.append((published, [("paragraph", "".join(f"<p>{s}</p>" for s in sentences))]))
    Page.objects.bulk_create(pages)
    articles = []
    for page, (published, body) in zip(pages, bodies, strict=True):
        article = ArticlePage(page_ptr_id=page.pk, date=timezone.localdate(published),
                              source=column.title, author="", body=body)
        article.__dict__.update({f.attname: getattr(page, f.attname)
                                 for f in Page._meta.concrete_fields if f.attname != "id"})
        for relation in CHILD_RELATIONS:  # in memory, so serialising queries nothing
            setattr(article, relation, [])
        articles.append(article)
    # Django refuses bulk_create on multi-table children; insert the child rows only.
    local_fields = ArticlePage._meta.local_concrete_fields
    ArticlePage._base_manager._insert(articles, fields=local_fields)
    revisions = Revision.objects.bulk_create([
        Revision(content_type=article_type, base_content_type=page_type,
                 object_id=str(article.pk), created_at=article.first_published_at, user=owner,
                 object_str=article.title, content=article.serializable_data(),
                 approved_go_live_at=None)
        for article in articles
    ])
    revision_of_page = Subquery(
        Revision.objects.filter(base_content_type=page_type,
                                object_id=Cast(OuterRef("pk"), CharField())).values("pk")[:1]
    )
    Page.objects.filter(pk__in=[p.pk for p in pages]).update(
        latest_revision=revision_of_page, live_revision=revision_of_page
    )
    _register_signed(articles, revisions, column=column, signers=signers, page_type=page_type)


@dataclass(frozen=True)
class Signers:
    """Who submitted, reviewed and signed an organisation's generated articles."""

    operator: str
    first_reviewer: str
    credential: SigningCredential


def _signers_for(home_id: int) -> Signers:
    members = {role.role: role.group.user_set.order_by("pk").first()
               for role in OrganisationRole.objects.filter(home_page_id=home_id)
               .select_related("group")}
    leader, admin = members.get(Role.LEADER), members.get(Role.ADMINISTRATOR)
    credential = (SigningCredential.objects.filter(user=leader, revoked_at=None,
                                                   kind=SigningCredential.Kind.PASSPHRASE)
                  .first() if leader else None)
    if credential is None or admin is None:
        raise DemoError("演示网站缺少网站管理员或带口令密钥的领导：请先运行 manage.py demo。")
    operator = members.get(Role.TEACHER) or admin
    return Signers(operator=operator.get_username(), first_reviewer=admin.get_username(),
                   credential=credential)


def _register_signed(articles, revisions, *, column, signers: Signers, page_type) -> None:
    """Each generated article goes live the way every article does: with the leader's
    signed approval of its revision, appended to the register (in bulk: one Argon2id
    opening of the demo leader's key per batch)."""
    column_url = column.full_url
    site = column.get_site().hostname
    payloads = []
    for article, revision in zip(articles, revisions, strict=True):
        moment = iso_utc(article.first_published_at)
        payloads.append({
            "model": "cms.articlepage", "object_id": str(article.pk), "page_id": article.pk,
            "site": site, "title": article.title, "url": f"{column_url}{article.slug}/",
            "revision_id": revision.pk, "content_sha256": object_content_sha256(article),
            "attachments": [], "operator": signers.operator,
            "first_reviewer": signers.first_reviewer,
            "approver": signers.credential.user.get_username(), "submitted_at": moment,
            "approved_at": moment, "go_live_at": None, "nonce": secrets.token_hex(16)})
    credential = signers.credential
    values = keys.sign_many(keys.SealedKey.from_json(credential.sealed_key),
                            content.DEMO_SIGNING_PASSPHRASE,
                            [canonical_json(payload) for payload in payloads])
    signatures = [{"alg": "ed25519", "key_id": credential.key_id,
                   "value": base64.b64encode(value).decode()} for value in values]
    approvals = Approval.objects.bulk_create([
        Approval(content_type=page_type, object_id=payload["object_id"], revision=revision,
                 content_sha256=payload["content_sha256"], payload=payload, signature=signature,
                 credential=credential, approver=credential.user)
        for payload, signature, revision in zip(payloads, signatures, revisions, strict=True)])
    append_many([
        {"kind": RegisterEntry.Kind.PUBLICATION, "content_type": page_type,
         "object_id": approval.object_id, "approval": approval.payload,
         "signature": approval.signature, "published_by": approval.payload["approver"],
         "published_at": article.first_published_at, "revision_id": approval.revision_id,
         "content_sha256": approval.content_sha256, "approval_record": approval}
        for approval, article in zip(approvals, articles, strict=True)])
