"""Filing resources: registry numbers and the teachers' batch upload."""

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from wagtail.documents import get_document_model

from cms.publishing import submit
from cms.resources.exceptions import UploadError
from cms.resources.models import RegistryCounter, Resource, ResourceFile, Semester
from cms.resources.rules import ResourceKind, SourceChannel, Visibility, registry_number

# Documents Wagtail accepts, plus the media teachers record lessons in.
DEFAULT_EXTRA_EXTENSIONS = ("mp4", "mp3", "jpg", "jpeg", "png")
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FILES_PER_BATCH = 100


@dataclass(frozen=True)
class BatchFields:
    """What a teacher fills in once for a whole batch."""

    semester: Semester
    kind: str
    subject: str
    grade: str
    source_channel: str
    visibility: str = Visibility.PUBLIC
    description: str = ""


def allowed_extensions() -> frozenset[str]:
    extensions = getattr(settings, "RESOURCES_FILE_EXTENSIONS", None)
    if extensions is None:
        extensions = [*getattr(settings, "WAGTAILDOCS_EXTENSIONS", []), *DEFAULT_EXTRA_EXTENSIONS]
    return frozenset(e.lower() for e in extensions)


def max_file_bytes() -> int:
    return int(getattr(settings, "RESOURCES_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def allocate_registry_sequences(*, school, year: int, count: int) -> range:
    """``count`` consecutive registry numbers of ``school`` for ``year``, taken in the
    database: the counter row is created if missing and incremented in one UPDATE, which
    holds its row lock until the transaction ends, so no two transactions get the same."""
    if count < 1:
        raise ValueError("count must be positive")
    with transaction.atomic():
        RegistryCounter.objects.bulk_create(
            [RegistryCounter(school=school, year=year, last_sequence=0)], ignore_conflicts=True)
        counter = RegistryCounter.objects.filter(school=school, year=year)
        counter.update(last_sequence=F("last_sequence") + count)
        last = counter.values_list("last_sequence", flat=True).get()
    return range(last - count + 1, last + 1)


def check_fields(fields: BatchFields) -> list[str]:
    problems = []
    if fields.kind not in ResourceKind.values:
        problems.append(f"资源类型“{fields.kind}”无效。")
    if fields.source_channel not in SourceChannel.values:
        problems.append(f"来源“{fields.source_channel}”无效。")
    if fields.visibility not in Visibility.values:
        problems.append(f"公开范围“{fields.visibility}”无效。")
    if not fields.subject.strip():
        problems.append("请填写学科。")
    if not fields.grade.strip():
        problems.append("请填写年级。")
    return problems


def check_files(files: list) -> list[str]:
    """Every problem with the files, before anything is stored."""
    if not files:
        return ["请选择要上传的文件。"]
    if len(files) > MAX_FILES_PER_BATCH:
        return [f"一次最多上传 {MAX_FILES_PER_BATCH} 个文件（选择了 {len(files)} 个）。"]
    extensions, limit = allowed_extensions(), max_file_bytes()
    problems = []
    for upload in files:
        name = PurePath(upload.name or "").name
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in extensions:
            problems.append(f"“{name}”的文件类型不允许上传（允许：{'、'.join(sorted(extensions))}）。")
        elif not upload.size:
            problems.append(f"“{name}”是空文件。")
        elif upload.size > limit:
            problems.append(f"“{name}”超过 {limit // (1024 * 1024)} MB。")
        elif len(name) > 200:
            problems.append(f"“{name[:40]}…”的文件名过长。")
    return problems


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def title_from_filename(name: str) -> str:
    stem = PurePath(name).stem.strip()
    return (stem or PurePath(name).name)[:255]


def _store_document(*, upload, school, teacher):
    Document = get_document_model()
    document = Document(title=title_from_filename(upload.name), collection=school.collection,
                        uploaded_by_user=teacher)
    document.file.save(PurePath(upload.name).name, File(upload), save=False)
    document._set_document_file_metadata()
    document.save()  # backups keeps the original on this save
    return document


@transaction.atomic
def upload_batch(*, teacher, school, fields: BatchFields, files: list, one_resource_title: str = "",
                 submit: bool = True) -> list[Resource]:
    """File a batch: one resource per file, or (with ``one_resource_title``) one resource
    holding every file. Each gets the next registry number, its files become documents in the
    school's collection, and it is submitted to its workflow. Any bad file or field stores
    nothing."""
    problems = check_fields(fields) + check_files(files)
    if fields.semester.end_date < timezone.localdate():
        problems.append(f"{fields.semester}已结束，不能再登记资源。")
    if school.collection_id is None:
        problems.append("学校没有文档库，请联系网站管理员。")
    if problems:
        raise UploadError(problems)

    groups = [files] if one_resource_title.strip() else [[upload] for upload in files]
    sequences = allocate_registry_sequences(school=school, year=fields.semester.start_year,
                                            count=len(groups))
    hashes = {id(upload): _sha256(upload) for upload in files}
    resources = []
    for sequence, group in zip(sequences, groups, strict=True):
        title = one_resource_title.strip()[:255] or title_from_filename(group[0].name)
        resource = Resource(
            school=school, semester=fields.semester, title=title, kind=fields.kind,
            subject=fields.subject.strip(), grade=fields.grade.strip(),
            source_channel=fields.source_channel, description=fields.description.strip(),
            visibility=fields.visibility, uploader=teacher,
            registry_year=fields.semester.start_year, registry_sequence=sequence,
            registry_number=registry_number(school_slug=school.slug,
                                            year=fields.semester.start_year, sequence=sequence),
            live=False,  # a draft: only the pipeline makes anything live
        )
        resource.files = [
            ResourceFile(document=_store_document(upload=upload, school=school, teacher=teacher),
                         sha256=hashes[id(upload)])
            for upload in group]
        resource.save()
        resource.save_revision(user=teacher)
        if submit:
            submit_resource(resource=resource, user=teacher)
        resources.append(resource)
    return resources


def submit_resource(*, resource: Resource, user):
    return submit(resource, user=user)
