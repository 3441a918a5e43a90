"""Teachers' semester resources: semesters, resources with their files, the registry's
running numbers, each school's quota rules, reminders sent, teaching groups and second
preparations of lesson plans (二次备课).

A resource is a Wagtail snippet with drafts, revisions and a workflow, so it passes the same
pipeline as pages (review/): public ones through screening, first review and the leader's
signed approval into the school site; internal ones through screening and first review.
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Orderable,
    RevisionMixin,
    Workflow,
    WorkflowMixin,
    WorkflowTask,
)

from cms.resources.actions.approve_internally import ApproveInternallyAction
from cms.resources.rules import (
    DEFAULT_MINIMUMS,
    DEFAULT_TOTAL,
    Requirement,
    ResourceKind,
    SourceChannel,
    Visibility,
    column_kind_for,
    semester_code,
    semester_name,
)
from cms.resources.scope import school_staff
from review.models import FirstReviewTask, ScreeningTask


class SemesterQuerySet(models.QuerySet):
    def current(self, *, today: datetime.date | None = None) -> "Semester | None":
        """The semester running today; between semesters (holidays), the last one begun."""
        today = today or timezone.localdate()
        running = self.filter(start_date__lte=today, end_date__gte=today).first()
        return running or self.filter(start_date__lte=today).order_by("-start_date").first()

    def open_for_upload(self, *, today: datetime.date | None = None):
        """Semesters a teacher may still file resources under: not yet ended."""
        return self.filter(end_date__gte=today or timezone.localdate())


class Semester(models.Model):
    """学期: a term of a school year (学年), e.g. ``2026-2027-1``."""

    start_year = models.PositiveSmallIntegerField("学年开始年份")
    term = models.PositiveSmallIntegerField("学期", choices=[(1, "第一学期"), (2, "第二学期")])
    code = models.CharField("学期代码", max_length=11, unique=True, editable=False)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")

    objects = SemesterQuerySet.as_manager()

    class Meta:
        verbose_name = "学期"
        verbose_name_plural = "学期"
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["start_year", "term"], name="one_semester_per_term"),
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")),
                                   name="semester_ends_after_it_starts"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.code = semester_code(start_year=self.start_year, term=self.term)
        super().save(*args, **kwargs)

    def clean(self):
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": "结束日期必须晚于开始日期。"})

    @property
    def name(self) -> str:
        return semester_name(start_year=self.start_year, term=self.term)



class QuotaRule(models.Model):
    """A school's requirement for one semester; without one, the regulation's defaults."""

    school = models.ForeignKey("cms.SchoolHomePage", verbose_name="学校", on_delete=models.CASCADE,
                               related_name="+")
    semester = models.ForeignKey(Semester, verbose_name="学期", on_delete=models.CASCADE,
                                 related_name="quota_rules")
    min_paper = models.PositiveSmallIntegerField("论文（篇）", default=1)
    min_reflection = models.PositiveSmallIntegerField("反思（篇）", default=1)
    min_courseware = models.PositiveSmallIntegerField("课件（件）", default=1)
    min_lesson_plan = models.PositiveSmallIntegerField("教案（篇）", default=0)
    min_exam = models.PositiveSmallIntegerField("试题（份）", default=0)
    min_video = models.PositiveSmallIntegerField("视频（个）", default=0)
    min_case = models.PositiveSmallIntegerField("案例（篇）", default=0)
    min_other = models.PositiveSmallIntegerField("其他（件）", default=0)
    min_total = models.PositiveSmallIntegerField("资源总数", default=DEFAULT_TOTAL)

    class Meta:
        verbose_name = "学期资源要求"
        verbose_name_plural = "学期资源要求"
        constraints = [models.UniqueConstraint(fields=["school", "semester"],
                                               name="one_quota_rule_per_school_semester")]

    def __str__(self):
        return f"{self.school} {self.semester}"

    @property
    def requirement(self) -> Requirement:
        return Requirement(minimums={kind: getattr(self, f"min_{kind}")
                                     for kind in ResourceKind.values},
                           total=self.min_total)


assert set(DEFAULT_MINIMUMS) <= set(ResourceKind.values)


class RegistryCounter(models.Model):
    """The last registry number given per school and school year. Numbers are taken by
    incrementing this row in the database (a row lock), so concurrent uploads on several
    servers never share a number."""

    school = models.ForeignKey("cms.SchoolHomePage", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "year"],
                                               name="one_registry_counter_per_school_year")]

    def __str__(self):
        return f"{self.school_id}-{self.year}: {self.last_sequence}"


class SchoolResourceWorkflow(models.Model):
    """The workflow a school's internal resources take: its screening and first review,
    without the leader's signature (nothing goes online). Made on first use."""

    school = models.OneToOneField("cms.SchoolHomePage", on_delete=models.CASCADE,
                                  related_name="+")
    internal_workflow = models.ForeignKey("wagtailcore.Workflow", on_delete=models.PROTECT,
                                          related_name="+")

    def __str__(self):
        return str(self.internal_workflow_id)


def internal_workflow_for(*, school) -> Workflow | None:
    """The school's internal-resource workflow, made on first use from its own tasks."""
    existing = SchoolResourceWorkflow.objects.filter(school=school).select_related(
        "internal_workflow").first()
    if existing is not None:
        return existing.internal_workflow
    public = school.get_workflow()
    if public is None:
        return None
    tasks = [task.specific for task in public.tasks]
    wanted = [task for task in tasks if isinstance(task, ScreeningTask | FirstReviewTask)]
    try:
        with transaction.atomic():
            workflow = Workflow.objects.create(name=f"{school.title} 校内资源审核")
            for order, task in enumerate(wanted):
                WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=order)
            SchoolResourceWorkflow.objects.create(school=school, internal_workflow=workflow)
    except IntegrityError:
        # Another request made it first (unique school): use theirs.
        return SchoolResourceWorkflow.objects.get(school=school).internal_workflow
    return workflow


# Fields that record the resource's standing, not its content: they are not part of a
# revision (so not of the signed content hash) and survive publishing a revision.
STANDING_FIELDS = ("approved_at",)


class Resource(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, ClusterableModel):
    """A teacher's resource for a semester, with its files (Wagtail documents in the school's
    collection, so their originals are kept and the screener reads them)."""

    school = models.ForeignKey("cms.SchoolHomePage", verbose_name="学校", on_delete=models.PROTECT,
                               related_name="+")
    semester = models.ForeignKey(Semester, verbose_name="学期", on_delete=models.PROTECT,
                                 related_name="resources")
    title = models.CharField("标题", max_length=255)
    kind = models.CharField("类型", max_length=16, choices=ResourceKind.choices)
    subject = models.CharField("学科", max_length=50)
    grade = models.CharField("年级", max_length=50)
    source_channel = models.CharField("来源", max_length=16, choices=SourceChannel.choices)
    description = models.TextField("说明", blank=True)
    visibility = models.CharField("公开范围", max_length=16, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    registry_year = models.PositiveSmallIntegerField("登记学年", editable=False)
    registry_sequence = models.PositiveIntegerField("登记序号", editable=False)
    registry_number = models.CharField("登记编号", max_length=64, unique=True, editable=False)
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人",
                                 on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记日期", default=timezone.now, editable=False)
    # 二次备课: the shared lesson plan this one is a new version of.
    derived_from = models.ForeignKey("self", verbose_name="二次备课所依据的教案", null=True,
                                     blank=True, on_delete=models.PROTECT,
                                     related_name="derivations", editable=False)
    # When it passed its workflow: live for public ones, first review for internal ones.
    # What quotas count. Set and cleared by cms.resources.approval only.
    approved_at = models.DateTimeField("审核通过时间", null=True, blank=True, editable=False,
                                       db_index=True)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="resource")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState", content_type_field="base_content_type",
        object_id_field="object_id", related_query_name="resource", for_concrete_model=False)

    class Meta:
        verbose_name = "教学资源"
        verbose_name_plural = "学期资源"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(
            fields=["school", "registry_year", "registry_sequence"],
            name="one_registry_number_per_school_year")]
        indexes = [models.Index(fields=["school", "semester", "approved_at"])]

    def __str__(self):
        return self.title

    @property
    def revisions(self):
        return self._revisions

    # --- Where it belongs in the pipeline ------------------------------------------------

    def get_site(self):
        return self.school.get_site()

    def latest_visibility(self) -> str:
        """The visibility of what would be submitted: the latest revision's, else the row's."""
        revision = self.latest_revision if self.latest_revision_id else None
        if revision is not None:
            return revision.content.get("visibility", self.visibility)
        return self.visibility

    def get_workflow(self):
        if self.latest_visibility() == Visibility.INTERNAL:
            return internal_workflow_for(school=self.school)
        return self.school.get_workflow()

    def review_attachments(self) -> list:
        """The files the screener reads and the leader's approval signs (review/)."""
        return [item.document for item in self.files.all()]

    def publish(self, revision, user=None, changed=True, log_action=True,
                previous_revision=None, skip_permission_checks=False):
        """Public resources go live (the publication guard wants the leader's signature);
        internal ones are never live: finishing their workflow records the approval."""
        if revision.as_object().visibility == Visibility.INTERNAL:
            return ApproveInternallyAction(self, revision=revision, user=user).execute(
                skip_permission_checks=skip_permission_checks)
        return super().publish(revision, user=user, changed=changed, log_action=log_action,
                               previous_revision=previous_revision,
                               skip_permission_checks=skip_permission_checks)

    def serializable_data(self):
        data = super().serializable_data()
        for name in STANDING_FIELDS:
            data.pop(name, None)
        return data

    def with_content_json(self, content):
        obj = super().with_content_json(content)
        for name in STANDING_FIELDS:
            setattr(obj, name, getattr(self, name))
        return obj

    @property
    def column_kind(self) -> str:
        return column_kind_for(self.kind)

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    def status_label(self) -> str:
        if self.live:
            return "已发布"
        if self.approved_at is not None:
            return "已通过（校内）"
        if self.workflow_in_progress:
            return "审核中"
        return "草稿"

    status_label.short_description = "状态"  # the listing's column head


class ResourceFile(Orderable):
    resource = ParentalKey(Resource, on_delete=models.CASCADE, related_name="files")
    document = models.ForeignKey("wagtaildocs.Document", verbose_name="文件",
                                 on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta(Orderable.Meta):
        verbose_name = "资源文件"
        verbose_name_plural = "资源文件"

    def __str__(self):
        return self.document.filename


class QuotaReminder(models.Model):
    """A reminder sent to a teacher short of a semester's quota: one per semester."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    shortfalls = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["teacher", "semester"],
                                               name="one_quota_reminder_per_semester")]

    def __str__(self):
        return f"{self.teacher_id} {self.semester_id}"


class TeachingGroup(models.Model):
    """教研组: a school's subject group and its leader (教研组长), who signs off second
    preparations of the group's shared lesson plans."""

    school = models.ForeignKey("cms.SchoolHomePage", verbose_name="学校", on_delete=models.CASCADE,
                               related_name="+")
    subject = models.CharField("学科", max_length=50)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="教研组长",
                               on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "教研组"
        verbose_name_plural = "教研组"
        constraints = [models.UniqueConstraint(fields=["school", "subject"],
                                               name="one_teaching_group_per_subject")]

    def __str__(self):
        return f"{self.subject}教研组"

    def clean(self):
        self.subject = (self.subject or "").strip()
        if self.school_id and self.leader_id and not school_staff(school=self.school).filter(
                pk=self.leader_id).exists():
            raise ValidationError({"leader": "教研组长必须是本校的教职工。"})


class SecondPreparation(models.Model):
    """二次备课: a teacher's new version of a shared lesson plan, signed off by the
    teaching-group leader before it replaces the shared one. The earlier version stays
    (it is never changed; ``shared`` moves to the new one)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待组长审核"
        ACCEPTED = "accepted", "已采用"
        RETURNED = "returned", "已退回"

    original = models.ForeignKey(Resource, verbose_name="原教案", on_delete=models.PROTECT,
                                 related_name="second_preparations")
    revised = models.OneToOneField(Resource, verbose_name="新版本", on_delete=models.PROTECT,
                                   related_name="second_preparation")
    group = models.ForeignKey(TeachingGroup, verbose_name="教研组", on_delete=models.PROTECT,
                              related_name="second_preparations")
    status = models.CharField("状态", max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField("意见", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "二次备课"
        verbose_name_plural = "二次备课"
        ordering = ["-created_at"]
        constraints = [
            # A shared version is replaced once: a second acceptance would fork the line.
            models.UniqueConstraint(fields=["original"], condition=Q(status="accepted"),
                                    name="one_accepted_replacement_per_version"),
        ]

    def __str__(self):
        return f"{self.revised} → {self.original}"
