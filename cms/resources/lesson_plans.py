"""二次备课: a teacher derives a new version of a shared lesson plan; the teaching-group
leader (教研组长) of its subject signs it off, and only then does it replace the shared one.
Every earlier version stays as it was: a replacement is a new row pointing at it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cms.resources.actions.decide_second_preparation import DecideSecondPreparationAction
from cms.resources.exceptions import SecondPreparationError, SecondPreparationRefused
from cms.resources.models import Resource, SecondPreparation, TeachingGroup
from cms.resources.rules import ResourceKind, Visibility
from cms.resources.scope import teaching_schools
from cms.resources.services import BatchFields, UploadError, upload_batch


def current_version(plan: Resource) -> Resource:
    """The shared version now: follow accepted replacements from ``plan``."""
    seen = {plan.pk}
    while (step := SecondPreparation.objects.filter(
            original=plan, status=SecondPreparation.Status.ACCEPTED)
            .select_related("revised").first()) is not None:
        plan = step.revised
        if plan.pk in seen:  # defensive: a cycle cannot be made through these functions
            break
        seen.add(plan.pk)
    return plan


@transaction.atomic
def derive(*, original: Resource, teacher, files: list, title: str = "",
           description: str = "") -> SecondPreparation:
    """File the teacher's new version (through the upload, so it is numbered, its files kept
    and it is submitted for review) and ask the group leader to sign it off."""
    if original.kind != ResourceKind.LESSON_PLAN or original.approved_at is None:
        raise SecondPreparationError("只能对审核通过的共享教案进行二次备课。")
    if current_version(original).pk != original.pk:
        raise SecondPreparationError("该教案已有新的共享版本，请基于最新版本二次备课。")
    if not teaching_schools(user=teacher).filter(pk=original.school_id).exists():
        raise SecondPreparationError("只能对本校的教案进行二次备课。")
    group = TeachingGroup.objects.filter(school_id=original.school_id,
                                         subject=original.subject).first()
    if group is None:
        raise SecondPreparationError(f"本校还没有设置{original.subject}教研组和教研组长。")
    semester = original.semester if original.semester.end_date >= timezone.localdate() else (
        type(original.semester).objects.current())
    try:
        [revised] = upload_batch(
            teacher=teacher, school=original.school,
            fields=BatchFields(semester=semester, kind=ResourceKind.LESSON_PLAN,
                               subject=original.subject, grade=original.grade,
                               source_channel=original.source_channel,
                               visibility=Visibility.INTERNAL,
                               description=description or original.description),
            files=files, one_resource_title=title or f"{original.title}（二次备课）")
    except UploadError as error:
        raise SecondPreparationError(str(error)) from error
    Resource.objects.filter(pk=revised.pk).update(derived_from=original)
    return SecondPreparation.objects.create(original=original, revised=revised, group=group)


def decide(*, preparation: SecondPreparation, leader, accept: bool,
           comment: str = "") -> SecondPreparation:
    """The group leader accepts (the new version becomes the shared one) or returns it: what
    ``DecideSecondPreparationAction`` does, for callers of this name."""
    return DecideSecondPreparationAction(preparation, user=leader, accept=accept,
                                         comment=comment).execute()


def shared_lesson_plans(*, schools):
    """The shared lesson plans of ``schools`` now: approved, not replaced by an accepted
    second preparation."""
    replaced = SecondPreparation.objects.filter(status=SecondPreparation.Status.ACCEPTED)
    return (Resource.objects.filter(school__in=schools, kind=ResourceKind.LESSON_PLAN)
            .exclude(approved_at=None).exclude(pk__in=replaced.values("original"))
            .select_related("uploader", "school").order_by("subject", "grade", "title"))


class DeriveForm(forms.Form):
    title = forms.CharField(label="标题", max_length=255, required=False,
                            help_text="留空则为原标题加“（二次备课）”。")
    description = forms.CharField(label="修改说明", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="留空则沿用原教案的说明。")


def derive_view(request, plan_id: int):
    """A teacher starts a second preparation of a shared lesson plan of their school: they
    download it, upload their edited version, and it is submitted for review."""
    schools = teaching_schools(user=request.user)
    if not schools.exists():
        raise PermissionDenied
    original = (shared_lesson_plans(schools=schools).filter(pk=plan_id)
                .prefetch_related("files__document").first())
    if original is None:
        raise Http404("没有这份共享教案。")
    form = DeriveForm(request.POST or None,
                      initial={"title": f"{original.title}（二次备课）"})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            preparation = derive(original=original, teacher=request.user,
                                 files=request.FILES.getlist("files"),
                                 title=form.cleaned_data["title"],
                                 description=form.cleaned_data["description"])
        except SecondPreparationError as refused:
            error = str(refused)
        else:
            messages.success(request, f"已提交二次备课 {preparation.revised.registry_number}，"
                                      f"经学校审核后由{preparation.group}组长审核。")
            return redirect(reverse("resources_second_preparations"))
    return render(request, "resources/derive_lesson_plan.html", {
        "original": original, "form": form, "error": error,
        "group": TeachingGroup.objects.filter(school_id=original.school_id,
                                              subject=original.subject).first(),
    })


def second_preparations_view(request):
    """Group leaders: what waits for their sign-off; teachers: their own requests."""
    led = TeachingGroup.objects.filter(leader=request.user)
    teaching = teaching_schools(user=request.user)
    if not led.exists() and not teaching.exists():
        raise PermissionDenied
    if request.method == "POST":
        try:
            preparation = SecondPreparation.objects.get(pk=int(request.POST.get("id", 0)),
                                                        group__in=led)
        except (ValueError, SecondPreparation.DoesNotExist) as error:
            raise PermissionDenied from error
        try:
            DecideSecondPreparationAction(preparation, user=request.user,
                                          accept=request.POST.get("decision") == "accept",
                                          comment=request.POST.get("comment", "")).execute()
        except SecondPreparationRefused:
            pass  # its reason reaches the leader as an admin message (review.context)
        else:
            messages.success(request, "已处理。")
        return redirect(request.path)
    return render(request, "resources/second_preparations.html", {
        "pending": SecondPreparation.objects.filter(
            group__in=led, status=SecondPreparation.Status.PENDING)
        .select_related("original", "revised", "revised__uploader"),
        "mine": SecondPreparation.objects.filter(revised__uploader=request.user)
        .select_related("original", "revised")[:100],
        "shared": shared_lesson_plans(schools=teaching)[:200],
    })
