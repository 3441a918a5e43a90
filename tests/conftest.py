from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.models import Page

from cms.models import ArticleAttachment, ArticlePage, ColumnPage, Role
from cms.organisations import Organisation, create_portal, create_school

PASSWORD = "correct-horse-battery"


@dataclass
class Network:
    portal: Organisation
    school_a: Organisation
    school_b: Organisation
    users: dict[str, object] = field(default_factory=dict)

    def column(self, organisation: Organisation, slug: str) -> ColumnPage:
        return ColumnPage.objects.child_of(organisation.home_page).get(slug=slug)


def make_user(username: str, *groups, superuser: bool = False):
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username=username, password=PASSWORD)
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.add(*groups)
    return user


def make_article(column: Page, title: str, *, live: bool = True, owner=None, slug=None,
                 date=None, attachments=()) -> ArticlePage:
    # A page saved without publishing is a draft: Wagtail's model default is live=True.
    article = ArticlePage(title=title, slug=slug or f"a-{ArticlePage.objects.count() + 1}",
                          owner=owner, live=False,
                          body=[("paragraph", f"<p>{title}的正文。</p>")])
    if date:
        article.date = date
    article.attachments = [ArticleAttachment(document=d) for d in attachments]
    column.add_child(instance=article)
    revision = article.save_revision(user=owner)
    if live:
        revision.publish(user=owner)
    article.refresh_from_db()
    return article


def make_document(organisation: Organisation, title: str, *, content: bytes = b"%PDF-1.4 test",
                  filename: str = "file.pdf"):
    Document = get_document_model()
    document = Document(title=title, collection=organisation.collection)
    document.file.save(filename, ContentFile(content), save=False)
    document._set_document_file_metadata()
    document.save()
    return document


@pytest.fixture
def network(db) -> Network:
    net = Network(
        portal=create_portal(name="测试县教育局", hostname="portal.test"),
        school_a=create_school(name="甲中学", slug="jia", hostname="jia.test"),
        school_b=create_school(name="乙中学", slug="yi", hostname="yi.test"),
    )
    for key, organisation in (("county", net.portal), ("a", net.school_a), ("b", net.school_b)):
        for role in Role.values:
            net.users[f"{key}_{role}"] = make_user(f"{key}_{role}", organisation.groups[role])
    net.users["superuser"] = make_user("root", superuser=True)
    return net


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
