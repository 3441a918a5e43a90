"""The admin pages through the test client: 我的学期资源, the school report with its chart,
XLSX, ranking, the registry, quota rules; school A's people never see school B's data."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cms.models import Role
from cms.resources.models import QuotaRule, Resource
from cms.resources.rules import ResourceKind
from tests.conftest import make_user
from tests.resources.conftest import QUOTA_MET, make_resources


@pytest.fixture
def filed(network, semester):
    a, b = network.school_a.home_page, network.school_b.home_page
    network.users["a2_teacher"] = make_user("a2_teacher", network.school_a.groups[Role.TEACHER])
    make_resources(school=a, teacher=network.users["a_teacher"], semester=semester,
                   kinds=QUOTA_MET)
    make_resources(school=a, teacher=network.users["a2_teacher"], semester=semester,
                   kinds={ResourceKind.PAPER: 3})
    make_resources(school=b, teacher=network.users["b_teacher"], semester=semester,
                   kinds={ResourceKind.COURSEWARE: 7})
    return network


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def test_my_resources_shows_the_teachers_own_progress(client, filed):
    response = get(client, filed.users["a2_teacher"], "resources_mine")
    assert response.status_code == 200
    text = response.content.decode()
    assert "审核通过 <strong>3</strong> 件" in text and "总数还差 47 件" in text
    assert 'type="file" name="files"' in text and "multiple" in text


def test_my_resources_is_for_teachers_only(client, filed):
    assert get(client, filed.users["a_leader"], "resources_mine").status_code in (302, 403)


def test_a_teacher_cannot_file_into_another_school(client, filed):
    response = get(client, filed.users["a_teacher"], "resources_mine",
                   school=filed.school_b.home_page.pk)
    assert response.status_code == 404


def test_the_school_report_has_the_chart_rate_and_ranking(client, filed):
    response = get(client, filed.users["a_administrator"], "resources_report")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<svg" in text and text.count('fill="#2e7d32"') == 1  # one complete teacher
    assert "完成率 <strong>50%</strong>" in text
    assert "a_teacher：50 件" in text and "a2_teacher：3 件" in text
    assert "b_teacher" not in text


def test_leaders_see_their_schools_report_too(client, filed):
    assert get(client, filed.users["a_leader"], "resources_report").status_code == 200


def test_school_a_never_sees_school_b(client, filed):
    other = filed.school_b.home_page.pk
    for name in ("resources_report", "resources_report_xlsx", "resources_registry",
                 "resources_registry_xlsx"):
        assert get(client, filed.users["a_administrator"], name,
                   school=other).status_code == 404, name
    # Teachers see no school report at all.
    for name in ("resources_report", "resources_registry"):
        assert get(client, filed.users["a_teacher"], name).status_code in (302, 403)


def test_the_bureau_oversees_every_school(client, filed):
    response = get(client, filed.users["county_administrator"], "resources_report",
                   school=filed.school_b.home_page.pk)
    assert response.status_code == 200 and "b_teacher" in response.content.decode()


def test_report_xlsx_for_the_yearly_assessment(client, filed, semester):
    response = get(client, filed.users["a_administrator"], "resources_report_xlsx",
                   semester=semester.code)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'-jia-{semester.code}.xlsx"')
    workbook = load_workbook(io.BytesIO(response.content))
    names = [row[2] for row in list(workbook["完成情况"].values)[1:]]
    assert names == ["a2_teacher", "a_teacher"]


def test_the_registry_lists_number_source_uploader_and_sha256(client, network, semester):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import blank_pdf

    client.force_login(network.users["a_teacher"])
    client.post(reverse("resources_mine"), {
        "semester": semester.pk, "kind": "paper", "subject": "语文", "grade": "初一",
        "source_channel": "downloaded", "visibility": "internal",
        "files": [SimpleUploadedFile("论文.pdf", blank_pdf())]})
    resource = Resource.objects.get()
    response = get(client, network.users["a_administrator"], "resources_registry_xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0] == ("登记编号", "标题", "类型", "学科", "年级", "来源", "上传人", "登记日期",
                       "文件", "SHA-256", "状态")
    number, title, kind, subject, grade, source, uploader, date, filename, sha, status = rows[1]
    assert (number, title, kind, subject, grade, source, uploader, filename) == (
        resource.registry_number, "论文", "论文", "语文", "初一", "下载", "a_teacher",
        resource.files.get().document.filename)  # 论文.pdf, or 论文_xxxxxxx.pdf when taken
    assert len(date) == 10
    assert sha == resource.files.get().sha256 and status == "未通过审核"
    page = get(client, network.users["a_administrator"], "resources_registry")
    assert resource.registry_number in page.content.decode()


def test_an_administrator_sets_the_schools_quota(client, filed, semester):
    client.force_login(filed.users["a_administrator"])
    url = reverse("resources_quota")
    response = client.post(f"{url}?semester={semester.code}", {
        "min_paper": 2, "min_reflection": 1, "min_courseware": 1, "min_lesson_plan": 0,
        "min_exam": 0, "min_video": 0, "min_case": 0, "min_other": 0, "min_total": 30})
    assert response.status_code == 302
    rule = QuotaRule.objects.get(school=filed.school_a.home_page, semester=semester)
    assert (rule.min_paper, rule.min_total) == (2, 30)
    # Leaders and teachers do not set rules; nobody sets another school's.
    assert get(client, filed.users["a_leader"], "resources_quota").status_code in (302, 403)
    assert get(client, filed.users["a_administrator"], "resources_quota",
               school=filed.school_b.home_page.pk).status_code == 404


def test_resource_snippet_views_are_confined(client, network, semester):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import blank_pdf

    client.force_login(network.users["a_teacher"])
    client.post(reverse("resources_mine"), {
        "semester": semester.pk, "kind": "paper", "subject": "语文", "grade": "初一",
        "source_channel": "made", "visibility": "public",
        "files": [SimpleUploadedFile("论文.pdf", blank_pdf())]})
    resource = Resource.objects.get()
    edit = reverse("wagtailsnippets_resources_resource:edit", args=[resource.pk])
    index = reverse("wagtailsnippets_resources_resource:list")
    assert client.get(edit).status_code == 200
    a2 = make_user("a2_teacher", network.school_a.groups[Role.TEACHER])
    for user, allowed in ((network.users["a_administrator"], True),
                          (network.users["a_leader"], True),
                          (network.users["b_administrator"], False),
                          (network.users["b_leader"], False), (a2, False)):
        client.force_login(user)
        assert (client.get(edit).status_code == 200) is allowed, user
        listed = resource.registry_number in client.get(index).content.decode()
        assert listed is allowed, user


def test_every_view_of_one_resource_is_confined(client, network, semester):
    """Each snippet URL naming a resource answers 404 to another school's administrator."""
    from django.urls import NoReverseMatch

    make_resources(school=network.school_a.home_page, teacher=network.users["a_teacher"],
                   semester=semester, kinds={ResourceKind.PAPER: 1})
    resource = Resource.objects.get()
    revision = resource.save_revision(user=network.users["a_teacher"])
    viewset = Resource.snippet_viewset
    client.force_login(network.users["b_administrator"])
    checked = 0
    for pattern in viewset.get_urlpatterns():
        if "pk" not in pattern.pattern.regex.groupindex:
            continue
        kwargs = {"pk": resource.pk, "revision_id": revision.pk, "action_name": "approve",
                  "task_state_id": 1, "workflow_state_id": 1, "revision_id_a": "earliest",
                  "revision_id_b": "latest"}
        wanted = {k: v for k, v in kwargs.items() if k in pattern.pattern.regex.groupindex}
        try:
            url = reverse(f"{viewset.url_namespace}:{pattern.name}", kwargs=wanted)
        except NoReverseMatch:
            continue
        assert client.get(url).status_code == 404, url
        checked += 1
    assert checked >= 15


# --- the upload form's progress and busy state (issue 18, finding 8) -------------------------

def upload_data(semester, *files) -> dict:
    return {"semester": semester.pk, "kind": "paper", "subject": "语文", "grade": "初一",
            "source_channel": "made", "visibility": "internal", "files": list(files)}


def test_the_upload_form_has_progress_and_busy_state_markup(client, network, semester):
    """The form works without JavaScript (a plain multipart post), and loads the upload script
    from a static file (no inline script for the admin's CSP to allow)."""
    from django.contrib.staticfiles import finders

    text = get(client, network.users["a_teacher"], "resources_mine").content.decode()
    assert 'method="post" enctype="multipart/form-data"' in text
    assert "data-resources-upload" in text and "data-upload-submit" in text
    assert '<div data-upload-status role="status" aria-live="polite" hidden>' in text
    assert 'src="/static/resources/upload.js"' in text
    assert "addEventListener" not in text  # the script lives in the static file
    with open(finders.find("resources/upload.js"), encoding="utf-8") as file:
        script = file.read()
    for needed in ("xhr.upload.addEventListener(\"progress\"", "button.disabled = on",
                   "aria-busy", "if (busy) {", "X-Requested-With", "正在上传"):
        assert needed in script, needed


def test_an_upload_sent_by_the_script_answers_where_to_go(client, network, semester):
    """The script's background upload gets the address to go to; the success message waits
    for that page instead of being spent inside the background request."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import blank_pdf

    client.force_login(network.users["a_teacher"])
    response = client.post(reverse("resources_mine"),
                           upload_data(semester, SimpleUploadedFile("论文.pdf", blank_pdf())),
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    target = response.json()["redirect"]
    assert target.startswith(reverse("resources_mine") + "?school=")
    assert Resource.objects.count() == 1
    assert "已登记 1 件资源并提交审核" in client.get(target).content.decode()
    # A refused upload answers the page with its errors (the script shows it), nothing filed.
    response = client.post(reverse("resources_mine"),
                           upload_data(semester, SimpleUploadedFile("病毒.exe", b"MZ")),
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200 and "text/html" in response["Content-Type"]
    assert "没有登记任何资源" in response.content.decode()
    assert Resource.objects.count() == 1
