"""Regenerates the demo's PDF and DOCX attachments in cms/demo/files/.

Run once by a developer (needs reportlab and python-docx, not project dependencies):
    python -m cms.demo.make_files
The files are committed so the demo needs neither library.
"""

from pathlib import Path

FILES = Path(__file__).parent / "files"

DOCUMENTS = {
    "2026年秋季学期校历": [
        "2026年秋季学期校历",
        "8月29日—8月30日 学生报到注册；8月31日 正式上课。",
        "10月1日—10月7日 国庆节放假，10月8日正常上课。",
        "11月9日—11月13日 期中教学质量检测。",
        "2027年1月18日—1月22日 期末考试；1月23日 寒假开始。",
    ],
    "关于做好秋冬季校园安全工作的通知": [
        "关于做好秋冬季校园安全工作的通知",
        "各中小学、幼儿园：",
        "为切实做好秋冬季校园安全工作，现将有关事项通知如下：",
        "一、落实安全责任。各校要严格落实校长第一责任人制度，开展一次全面隐患排查。",
        "二、加强消防和用电安全。规范宿舍、食堂、实验室用电管理。",
        "三、做好防溺水、防交通事故宣传教育，利用家长会、家校群提醒家长履行监护职责。",
        "城关县教育局办公室",
    ],
    "初一数学《有理数》教学设计": [
        "初一数学《有理数》教学设计",
        "一、教学目标：理解有理数的概念，会对有理数进行分类。",
        "二、教学重点：有理数的分类；教学难点：负数的意义。",
        "三、教学过程：情境导入（温度计读数）—合作探究—归纳分类—课堂练习—小结。",
        "四、教学反思：学生对“0既不是正数也不是负数”理解较好，分类讨论仍需加强。",
    ],
    "校园读书节活动方案": [
        "城关实验小学第五届校园读书节活动方案",
        "活动主题：书香润童心，阅读伴成长。",
        "活动时间：2026年10月至12月。",
        "活动内容：好书推荐、亲子共读、读书小报评比、“故事大王”比赛。",
        "组织保障：语文教研组负责具体实施，各班主任做好组织发动。",
    ],
}
PDFS = {"2026年秋季学期校历": "xiaoli-2026-autumn.pdf",
        "关于做好秋冬季校园安全工作的通知": "anquan-tongzhi.pdf"}
DOCXS = {"初一数学《有理数》教学设计": "youlishu-jiaoxue-sheji.docx",
         "校园读书节活动方案": "dushujie-fangan.docx"}


def make_pdf(lines: list[str], path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(lines[0])
    y = 780
    pdf.setFont("STSong-Light", 18)
    pdf.drawCentredString(297, y, lines[0])
    pdf.setFont("STSong-Light", 12)
    for line in lines[1:]:
        y -= 28
        pdf.drawString(60, y, line)
    pdf.save()


def make_docx(lines: list[str], path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = lines[0]
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    document.save(str(path))


if __name__ == "__main__":
    FILES.mkdir(exist_ok=True)
    for title, name in PDFS.items():
        make_pdf(DOCUMENTS[title], FILES / name)
    for title, name in DOCXS.items():
        make_docx(DOCUMENTS[title], FILES / name)
