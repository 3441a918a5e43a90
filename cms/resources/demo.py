"""Demo: the current semester, and teachers with resources in it — some meeting every
quota, some not — every one filed through the upload and approved through the workflow
(public ones signed by the leader, internal ones first-reviewed by the administrator)."""

import datetime
import io
import zipfile
from xml.sax.saxutils import escape

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cms.demo.content import DEMO_SIGNING_PASSPHRASE
from cms.publishing import act, publish_through_pipeline
from cms.resources.models import Semester, TeachingGroup
from cms.resources.rules import ResourceKind, SourceChannel, Visibility
from cms.resources.services import BatchFields, upload_batch

# Per teacher: (kind, how many, visibility, approved?) — teacher1 meets every quota,
# teacher2 has the three kinds but not 50, teacher3 is short of everything.
PLANS = {
    "teacher1": [(ResourceKind.COURSEWARE, 1, Visibility.PUBLIC, True),
                 (ResourceKind.PAPER, 1, Visibility.INTERNAL, True),
                 (ResourceKind.REFLECTION, 1, Visibility.INTERNAL, True),
                 (ResourceKind.LESSON_PLAN, 30, Visibility.INTERNAL, True),
                 (ResourceKind.EXAM, 17, Visibility.INTERNAL, True)],
    "teacher2": [(ResourceKind.PAPER, 1, Visibility.INTERNAL, True),
                 (ResourceKind.REFLECTION, 1, Visibility.INTERNAL, True),
                 (ResourceKind.COURSEWARE, 1, Visibility.INTERNAL, True),
                 (ResourceKind.LESSON_PLAN, 15, Visibility.INTERNAL, True),
                 (ResourceKind.CASE, 2, Visibility.INTERNAL, False)],
    "teacher3": [(ResourceKind.LESSON_PLAN, 4, Visibility.INTERNAL, True),
                 (ResourceKind.VIDEO, 1, Visibility.INTERNAL, False)],
}
SUBJECTS = {"teacher1": "语文", "teacher2": "数学", "teacher3": "物理"}


def current_semester(*, today: datetime.date) -> Semester:
    """The semester around ``today``: autumn term from September, spring from February,
    stretched so that today always falls inside (a demo built in the holidays works too)."""
    if today.month >= 8 or today.month == 1:
        start_year = today.year if today.month >= 8 else today.year - 1
        term, start, end = 1, datetime.date(start_year, 9, 1), datetime.date(start_year + 1, 1, 20)
    else:
        start_year = today.year - 1
        term, start, end = 2, datetime.date(today.year, 2, 20), datetime.date(today.year, 7, 10)
    semester, _ = Semester.objects.get_or_create(
        start_year=start_year, term=term,
        defaults={"start_date": min(start, today - datetime.timedelta(days=7)),
                  "end_date": max(end, today + datetime.timedelta(days=30))})
    return semester


def minimal_docx(paragraphs: list[str]) -> bytes:
    """A small valid DOCX (the screener reads it like any teacher's Word file)."""
    body = "".join(f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>" for text in paragraphs)
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def _files(prefix: str, kind: str, count: int) -> list:
    label = ResourceKind(kind).label
    return [SimpleUploadedFile(
        f"{prefix}{label}{number:02d}.docx",
        minimal_docx([f"{prefix}{label}第{number}号", "一、教学目标", "二、重点难点",
                      "三、教学过程", "四、教学反思"]),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        for number in range(1, count + 1)]


def build_resource_demo(*, organisations: dict, users: dict, passphrase: str | None = None) -> int:
    """Resources for each school's three demo teachers; how many were filed."""
    semester = current_semester(today=timezone.localdate())
    filed = 0
    for key, organisation in organisations.items():
        if key == "portal":
            continue
        school = organisation.home_page
        admin, leader = users[f"{key}_admin"], users[f"{key}_leader"]
        TeachingGroup.objects.get_or_create(school=school, subject="语文",
                                            defaults={"leader": users[f"{key}_teacher1"]})
        for teacher_key, plan in PLANS.items():
            teacher = users[f"{key}_{teacher_key}"]
            for kind, count, visibility, approved in plan:
                resources = upload_batch(
                    teacher=teacher, school=school,
                    fields=BatchFields(semester=semester, kind=kind,
                                       subject=SUBJECTS[teacher_key], grade="七年级",
                                       source_channel=SourceChannel.MADE,
                                       visibility=visibility),
                    files=_files(teacher.first_name[:2], kind, count))
                filed += len(resources)
                if not approved:
                    continue
                for resource in resources:
                    if visibility == Visibility.PUBLIC:
                        publish_through_pipeline(resource, submitter=teacher, reviewer=admin,
                                                 leader=leader,
                                                 passphrase=passphrase or DEMO_SIGNING_PASSPHRASE)
                    else:
                        act(resource, user=admin, action="approve", comment="")
    return filed
