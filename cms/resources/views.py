"""Admin views: 我的学期资源 (teachers' batch upload and progress), the per-school semester
report with its chart, XLSX and ranking, the registry, quota rules, second preparations."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from cms.resources.lesson_plans import derive_view, second_preparations_view
from cms.resources.models import QuotaRule, Resource, Semester
from cms.resources.reports import (
    progress_chart_svg,
    ranking,
    registry_files,
    registry_table,
    report_xlsx,
    semester_report,
    summaries,
    to_xlsx,
)
from cms.resources.rules import ResourceKind, SourceChannel, Visibility
from cms.resources.scope import administered_schools, overseen_schools, teaching_schools
from cms.resources.services import (
    MAX_FILES_PER_BATCH,
    BatchFields,
    UploadError,
    allowed_extensions,
    upload_batch,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTRY_PAGE_ROWS = 500


def _chosen(queryset, value):
    """The object of ``queryset`` named by ``value`` (a pk), else the first; 404 for one
    outside it (another school's)."""
    if value:
        try:
            return queryset.get(pk=int(value))
        except (ValueError, queryset.model.DoesNotExist) as error:
            raise Http404 from error
    return queryset.first()


def _semester(code: str | None) -> Semester | None:
    if code:
        semester = Semester.objects.filter(code=code).first()
        if semester is None:
            raise Http404("没有这个学期。")
        return semester
    return Semester.objects.current()


class BatchForm(forms.Form):
    semester = forms.ModelChoiceField(label="学期", queryset=Semester.objects.none(),
                                      empty_label=None)
    kind = forms.ChoiceField(label="类型", choices=ResourceKind.choices)
    subject = forms.CharField(label="学科", max_length=50)
    grade = forms.CharField(label="年级", max_length=50)
    source_channel = forms.ChoiceField(label="来源", choices=SourceChannel.choices)
    visibility = forms.ChoiceField(label="公开范围", choices=Visibility.choices,
                                   initial=Visibility.PUBLIC,
                                   help_text="公开的资源经初审和领导签名审批后发布到学校网站对应栏目；"
                                             "仅校内的资源经网站管理员初审。")
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    one_resource_title = forms.CharField(
        label="合并为一件资源", required=False, max_length=255,
        help_text="留空：每个文件登记为一件资源（标题取文件名）；填写标题：所有文件合为一件资源。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["semester"].queryset = Semester.objects.open_for_upload()
        current = Semester.objects.current()
        if current is not None:
            self.fields["semester"].initial = current.pk


def my_resources(request):
    """我的学期资源: upload several files at once with shared fields, and progress."""
    school = _chosen(teaching_schools(user=request.user), request.GET.get("school"))
    if school is None:
        raise PermissionDenied
    form = BatchForm(request.POST or None)
    upload_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = BatchFields(semester=data["semester"], kind=data["kind"],
                             subject=data["subject"], grade=data["grade"],
                             source_channel=data["source_channel"],
                             visibility=data["visibility"], description=data["description"])
        try:
            with transaction.atomic():
                filed = upload_batch(teacher=request.user, school=school, fields=fields,
                                     files=request.FILES.getlist("files"),
                                     one_resource_title=data["one_resource_title"])
        except UploadError as error:
            upload_errors = error.messages
        else:
            messages.success(request, f"已登记 {len(filed)} 件资源并提交审核："
                                      f"{filed[0].registry_number} 起。")
            done = f"{request.path}?school={school.pk}"
            if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                # The upload script (static/resources/upload.js) sent the files in the
                # background to show progress: it goes there itself, and the message waits
                # for that page (a redirect would be followed, and the message shown, inside
                # the background request).
                return JsonResponse({"redirect": done})
            return redirect(done)
    semester = _semester(request.GET.get("semester")) or Semester.objects.current()
    rows = semester_report(schools=[school], semester=semester) if semester else []
    mine = next((row for row in rows if row.teacher_id == request.user.pk), None)
    resources = (Resource.objects.filter(uploader=request.user, school=school,
                                         semester=semester)
                 .select_related("semester").prefetch_related("files__document")
                 if semester else Resource.objects.none())
    return render(request, "resources/my_resources.html", {
        "school": school, "semester": semester, "form": form, "upload_errors": upload_errors,
        "progress": mine.progress if mine else None, "resources": resources[:200],
        "extensions": "、".join(sorted(allowed_extensions())),
        "max_files": MAX_FILES_PER_BATCH,
        "schools": teaching_schools(user=request.user), "days_left": days_left(semester),
    })


def _report_context(request):
    schools = overseen_schools(user=request.user)
    if not schools.exists():
        raise PermissionDenied
    school = _chosen(schools, request.GET.get("school"))
    semester = _semester(request.GET.get("semester"))
    rows = semester_report(schools=[school], semester=semester) if semester else []
    return schools, school, semester, rows


def school_report(request):
    schools, school, semester, rows = _report_context(request)
    summary = summaries(rows)
    return render(request, "resources/school_report.html", {
        "schools": schools, "school": school, "semester": semester,
        "semesters": Semester.objects.all(), "rows": rows,
        "summary": summary[0] if summary else None,
        "chart": mark_safe(progress_chart_svg(rows)),  # built from escaped names only
        "ranking": ranking(rows)[:50],
        "may_set_quota": administered_schools(user=request.user).filter(pk=school.pk).exists(),
    })


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def school_report_xlsx(request):
    _, school, semester, rows = _report_context(request)
    if semester is None:
        raise Http404("还没有学期。")
    return _xlsx_response(report_xlsx(rows), f"semester-report-{school.slug}-{semester.code}.xlsx")


def _registry_scope(request):
    schools = overseen_schools(user=request.user)
    if not schools.exists():
        raise PermissionDenied
    school = _chosen(schools, request.GET.get("school"))
    year = request.GET.get("year")
    try:
        year = int(year) if year else None
    except ValueError as error:
        raise Http404 from error
    return schools, school, year


def registry(request):
    schools, school, year = _registry_scope(request)
    files = registry_files(schools=[school], year=year)
    table = registry_table(files[:REGISTRY_PAGE_ROWS])
    header = next(table)
    years = (Resource.objects.filter(school=school).order_by("-registry_year")
             .values_list("registry_year", flat=True).distinct())
    return render(request, "resources/registry.html", {
        "schools": schools, "school": school, "year": year, "years": years,
        "header": header, "lines": list(table), "total": files.count(),
        "page_rows": REGISTRY_PAGE_ROWS,
    })


def registry_xlsx(request):
    _, school, year = _registry_scope(request)
    content = to_xlsx([("资源登记册", registry_table(registry_files(schools=[school],
                                                                   year=year)))])
    return _xlsx_response(content, f"resource-registry-{school.slug}-{year or 'all'}.xlsx")


class QuotaRuleForm(forms.ModelForm):
    class Meta:
        model = QuotaRule
        fields = ["min_paper", "min_reflection", "min_courseware", "min_lesson_plan",
                  "min_exam", "min_video", "min_case", "min_other", "min_total"]


def quota_rule(request):
    """A school's web administrator sets the requirement of a semester."""
    school = _chosen(administered_schools(user=request.user), request.GET.get("school"))
    if school is None:
        raise PermissionDenied
    semester = _semester(request.GET.get("semester"))
    if semester is None:
        raise Http404("还没有学期。")
    rule = QuotaRule.objects.filter(school=school, semester=semester).first() or QuotaRule(
        school=school, semester=semester)
    form = QuotaRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"已保存{school.title}{semester}的资源要求。")
        return redirect(f"{request.path}?school={school.pk}&semester={semester.code}")
    return render(request, "resources/quota_rule.html", {"form": form, "school": school,
                                                         "semester": semester})


def second_preparations(request):
    return second_preparations_view(request)


def derive_lesson_plan(request, plan_id: int):
    return derive_view(request, plan_id)


def days_left(semester: Semester | None) -> int | None:
    if semester is None:
        return None
    return (semester.end_date - timezone.localdate()).days

