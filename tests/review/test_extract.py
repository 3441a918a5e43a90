"""Attachment text extraction: every format's text comes out, and hostile or broken files are
refused with a message naming the file. Fixtures are built here, at test time."""

import io
import random
import time
import zipfile

import docx
import openpyxl
import pypdf
import pytest

from review.screening import extract as extract_module
from review.screening.extract import SUPPORTED, Extracted, ExtractionError, Limits, extract

ID_NUMBER = "110105200501011234"

# Fixture builders ----------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, title: str | None = None) -> bytes:
    """A small, valid PDF with ASCII text in Helvetica, one list of lines per page."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids, number = [], 4
    for lines in pages:
        shown = b" ".join(b"(%s) Tj T*" % line.encode("ascii") for line in lines)
        stream = b"BT /F1 12 Tf 14 TL 72 720 Td " + shown + b" ET"
        objects[number] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (number + 1)
        )
        objects[number + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        kids.append(b"%d 0 R" % number)
        number += 2
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    trailer_info = b""
    if title is not None:
        objects[number] = b"<< /Title (%s) /Author (Registrar) >>" % title.encode("ascii")
        trailer_info = b" /Info %d 0 R" % number
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = {}
    for key in sorted(objects):
        offsets[key] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (key, objects[key]))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for key in sorted(objects):
        out.write(b"%010d 00000 n \n" % offsets[key])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, trailer_info))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def encrypt_pdf(pdf: bytes, *, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members.items():
            package.writestr(name, content)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="png" ContentType="image/png"/>'
    "</Types>"
)
CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:title>期末通知</dc:title><dc:creator>教务处</dc:creator>"
    "<cp:keywords>考试 安排</cp:keywords><cp:revision>987654</cp:revision>"
    "</cp:coreProperties>"
)


def word_part(root: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{root} {W}>{body}</w:{root}>'


DOCUMENT_BODY = (
    "<w:body>"
    '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
    "<w:r><w:t>第一段</w:t></w:r><w:r><w:tab/><w:t>缩进</w:t><w:br/><w:t>换行</w:t></w:r></w:p>"
    "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>学生身份证</w:t></w:r></w:p></w:tc>"
    f"<w:tc><w:p><w:r><w:t>{ID_NUMBER}</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
    "<w:txbxContent><w:p><w:r><w:t>文本框里的字</w:t></w:r></w:p></w:txbxContent>"
    "</v:textbox></v:shape></w:pict></w:r></w:p>"
    '<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t xml:space="preserve">隐藏文字 </w:t></w:r>'
    '<w:fldSimple w:instr=" HYPERLINK &quot;http://field.example/&quot; ">'
    "<w:r><w:t>点这里</w:t></w:r></w:fldSimple></w:p>"
    "</w:body>"
)
DOCUMENT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/hyperlink" Target="http://spam.example/casino" TargetMode="External"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/header" Target="header1.xml"/>'
    "</Relationships>"
)


def docx_members(overrides: dict[str, bytes | str] | None = None) -> dict[str, bytes | str]:
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "word/document.xml": word_part("document", DOCUMENT_BODY),
        "word/_rels/document.xml.rels": DOCUMENT_RELS,
        "word/header1.xml": word_part("hdr", "<w:p><w:r><w:t>页眉：某某中学</w:t></w:r></w:p>"),
        "word/footer1.xml": word_part("ftr", "<w:p><w:r><w:t>页脚电话</w:t></w:r></w:p>"),
        "word/footnotes.xml": word_part(
            "footnotes",
            '<w:footnote w:id="1"><w:p><w:r><w:t>脚注内容</w:t></w:r></w:p></w:footnote>',
        ),
        "word/comments.xml": word_part(
            "comments", '<w:comment w:id="0"><w:p><w:r><w:t>批注内容</w:t></w:r></w:p></w:comment>'
        ),
        "word/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "docProps/core.xml": CORE,
    }
    members.update(overrides or {})
    return members


def make_docx(overrides: dict[str, bytes | str] | None = None) -> bytes:
    return make_zip(docx_members(overrides))


S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
XLSX_MEMBERS: dict[str, bytes | str] = {
    "[Content_Types].xml": CONTENT_TYPES,
    "xl/workbook.xml": (
        f'<workbook {S} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/>'
        '<sheet name="隐藏表" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>'
    ),
    "xl/sharedStrings.xml": (
        f'<sst {S} count="3" uniqueCount="3">'
        "<si><t>姓名</t></si>"
        "<si><r><t>张</t></r><r><rPr><b/></rPr><t>三</t></r><rPh><t>ZHANG</t></rPh></si>"
        f"<si><t>{ID_NUMBER}</t></si>"
        "</sst>"
    ),
    "xl/worksheets/sheet1.xml": (
        f"<worksheet {S}><sheetData>"
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>银行卡</t></is></c>'
        '<c r="C1" s="2"/></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>6222021234567890123</v></c>'
        '<c r="C2" t="s"><v>2</v></c><c r="D2"><v>1.10105200501E+17</v></c>'
        '<c r="E2" t="b"><v>1</v></c><c r="F2"><f>SUM(B2:B3)</f><v>42.5</v></c></row>'
        '<row r="3"/>'
        "</sheetData>"
        "<headerFooter><oddFooter>&amp;C联系电话 13800138000</oddFooter></headerFooter>"
        "</worksheet>"
    ),
    "xl/worksheets/sheet2.xml": (
        f'<worksheet {S}><sheetData><row r="1"><c r="A1" t="str"><v>隐藏内容</v></c></row>'
        "</sheetData></worksheet>"
    ),
    "xl/worksheets/_rels/sheet1.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="http://spam.example/xlsx" TargetMode="External"/>'
        "</Relationships>"
    ),
    "xl/comments1.xml": (
        f"<comments {S}><commentList><comment ref=\"A1\"><text><r><t>批注：请核对</t></r></text>"
        "</comment></commentList></comments>"
    ),
    "docProps/core.xml": CORE,
}


def make_xlsx(overrides: dict[str, bytes | str] | None = None) -> bytes:
    members = dict(XLSX_MEMBERS)
    members.update(overrides or {})
    return make_zip(members)


def refused(data, name: str, *, limits: Limits | None = None, says: str) -> str:
    """Extraction is refused with a message that names the file and says ``says``."""
    with pytest.raises(ExtractionError) as caught:
        extract(data, name=name, limits=limits or Limits())
    message = str(caught.value)
    assert name in message
    assert says in message
    return message


# Plain text and HTML -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["notes.txt", "README.md", "名单.csv", "UPPER.TXT"])
def test_utf8_text_formats_come_out_as_is(name):
    content = f"学号,姓名,身份证\n1,张三,{ID_NUMBER}\n"
    result = extract(content.encode(), name=name)
    assert result == Extracted(text=content, is_html=False)


def test_gbk_text_is_decoded_as_gb18030():
    content = "关于期末考试安排的通知：家长电话 13800138000"
    assert extract(content.encode("gbk"), name="通知.txt").text == content


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_text_with_a_bom(codec):
    content = "带字节顺序标记的文本"
    raw = content.encode(codec)
    if codec == "utf-16-be":
        raw = b"\xfe\xff" + raw
    assert extract(raw, name="bom.txt").text == content


def test_html_is_source_text_with_meta_charset():
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    html += '</head><body><p>招生简章</p><a href="http://spam.example/">链接</a></body></html>'
    result = extract(html.encode("gbk"), name="简章.HTM")
    assert result == Extracted(text=html, is_html=True)


def test_html_meta_charset_is_honoured_like_a_browser():
    # These UTF-8 bytes are also valid GBK; the declaration decides, as it does in a browser.
    raw = '<meta charset="GBK"><p>中文</p>'.encode()
    assert extract(raw, name="page.html").text == raw.decode("gb18030")
    assert extract(raw.replace(b"GBK", b"utf-8"), name="page.html").text.endswith("中文</p>")


def test_undecodable_and_binary_text_is_refused():
    refused(b"\x80\x81 not text \xff", "乱码.txt", says="无法识别文本编码")
    # UTF-16 without a BOM: any ASCII (digits, line breaks) brings NUL bytes; we refuse rather
    # than misread it as GB18030.
    refused("学号 1\n".encode("utf-16-le"), "utf16.csv", says="二进制内容")


# Input and limits common to all formats ------------------------------------------------------


@pytest.mark.parametrize("name", ["setup.exe", "archive.zip", "old.doc", "noextension", "a.pdf.js"])
def test_unsupported_extension_is_refused(name):
    refused(b"anything", name, says="不支持的附件格式")


def test_supported_extensions():
    assert SUPPORTED == (".html", ".htm", ".txt", ".md", ".csv", ".pdf", ".docx", ".xlsx")


def test_paths_and_file_objects_are_read(tmp_path):
    path = tmp_path / "说明.md"
    path.write_bytes("# 标题\n".encode())
    assert extract(path, name="说明.md").text == "# 标题\n"
    assert extract(str(path), name="说明.md").text == "# 标题\n"
    with path.open("rb") as stream:
        assert extract(stream, name="说明.md").text == "# 标题\n"


class CountingStream(io.RawIOBase):
    """An endless stream of "a" that returns short reads and counts what it handed out."""

    def __init__(self) -> None:
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), 1000)
        buffer[:size] = b"a" * size
        self.handed_out += size
        return size


def test_file_over_max_bytes_is_refused_without_reading_it_all(tmp_path):
    limits = Limits(max_bytes=10_000)
    refused(b"a" * 10_001, "big.txt", limits=limits, says="文件大小超过上限")
    stream = CountingStream()
    refused(stream, "endless.txt", limits=limits, says="文件大小超过上限（10,000 字节）")
    assert stream.handed_out <= 10_001 + 1000
    path = tmp_path / "big.pdf"
    path.write_bytes(b"%PDF" + bytes(10_000))
    refused(path, "big.pdf", limits=limits, says="文件大小超过上限")
    assert extract(b"a" * 10_000, name="fits.txt", limits=limits).text == "a" * 10_000


def test_default_limits():
    assert Limits() == Limits(
        max_bytes=50 * 1024 * 1024,
        max_pdf_pages=500,
        max_unzipped_bytes=200 * 1024 * 1024,
        max_compression_ratio=100,
        max_chars=20_000_000,
    )
    refused(b"x" * 60 * 1024 * 1024, "huge.txt", says="文件大小超过上限（50 MB）")


def test_text_over_max_chars_is_refused_not_truncated():
    limits = Limits(max_chars=1000)
    refused(b"x" * 1001, "long.txt", limits=limits, says="提取的文字超过上限（1,000 个字符）")
    body = "<w:body>" + "<w:p><w:r><w:t>十个字的一段文字内容</w:t></w:r></w:p>" * 200 + "</w:body>"
    refused(make_docx({"word/document.xml": word_part("document", body)}), "长文档.docx",
            limits=limits, says="提取的文字超过上限")
    pdf = make_pdf([["A" * 80] * 20])
    refused(pdf, "long.pdf", limits=limits, says="提取的文字超过上限")
    # One long shared string repeated in many cells: refused while the rows are read.
    sst = f'<sst {S}><si><t>{"字" * 500}</t></si></sst>'
    cells = '<c t="s"><v>0</v></c>' * 10
    sheet = f'<worksheet {S}><sheetData><row r="1">{cells}</row></sheetData></worksheet>'
    xlsx = make_xlsx({"xl/sharedStrings.xml": sst, "xl/worksheets/sheet1.xml": sheet})
    refused(xlsx, "重复.xlsx", limits=limits, says="提取的文字超过上限")


# PDF -----------------------------------------------------------------------------------------


def test_pdf_text_of_every_page_and_document_info():
    pdf = make_pdf([["Student ID 110105200501011234"], ["Page two", "Tel 13800138000"]],
                   title="Enrolment list")
    text = extract(pdf, name="list.pdf").text
    assert "Enrolment list" in text and "Registrar" in text
    assert "ID 110105200501011234" in text
    assert "Page two" in text and "13800138000" in text
    assert text.index("110105200501011234") < text.index("Page two")


def test_pdf_over_max_pages_is_refused():
    pdf = make_pdf([["one"], ["two"]])
    refused(pdf, "report.pdf", limits=Limits(max_pdf_pages=1), says="PDF 页数超过上限（1 页）")
    assert "two" in extract(pdf, name="report.pdf", limits=Limits(max_pdf_pages=2)).text


def test_encrypted_pdf_is_refused_unless_it_opens_without_a_password():
    pdf = make_pdf([["Confidential 110105200501011234"]])
    refused(encrypt_pdf(pdf, user_password="secret"), "加密.pdf", says="PDF 已加密")
    # An owner password alone (printing/copying restrictions) does not stop reading.
    restricted = encrypt_pdf(pdf, user_password="")
    assert ID_NUMBER in extract(restricted, name="restricted.pdf").text


@pytest.mark.parametrize(
    "raw",
    [b"", b"%PDF-1.4\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer garbage", b"not a pdf"],
)
def test_corrupt_pdf_is_refused(raw):
    refused(raw, "broken.pdf", says="PDF 文件已损坏或无法解析")


# DOCX ----------------------------------------------------------------------------------------


def test_docx_text_everywhere():
    text = extract(make_docx(), name="通知.docx").text
    for expected in [
        "第一段\t缩进\n换行",  # run tab and break; the tab stop in w:tabs adds nothing
        "学生身份证",
        ID_NUMBER,  # table cell
        "文本框里的字",
        "隐藏文字",
        "HYPERLINK \"http://field.example/\"",  # field instruction
        "页眉：某某中学",
        "页脚电话",
        "脚注内容",
        "批注内容",
        "http://spam.example/casino",  # hyperlink address in the relationships
        "期末通知",
        "教务处",
        "考试 安排",
    ]:
        assert expected in text
    assert text.startswith("第一段")  # the main document comes first
    assert "\t\t" not in text and "PNG" not in text
    assert "987654" not in text  # core properties other than the five are not included


def test_docx_authored_with_python_docx():
    document = docx.Document()
    document.core_properties.title = "家长会通知"
    document.add_paragraph("请各位家长准时参加。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 1).text = ID_NUMBER
    document.sections[0].header.paragraphs[0].text = "实验小学"
    out = io.BytesIO()
    document.save(out)
    text = extract(out.getvalue(), name="家长会.docx").text
    for expected in ["家长会通知", "请各位家长准时参加。", ID_NUMBER, "实验小学"]:
        assert expected in text


def test_docx_html_chunk_is_read_and_mht_chunk_refused():
    chunk = '<html><body><p style="display:none">隐藏的广告 http://spam.example/chunk</p></body></html>'
    docx_bytes = make_docx({"word/afchunk.htm": chunk.encode("gbk")})
    assert "隐藏的广告 http://spam.example/chunk" in extract(docx_bytes, name="chunk.docx").text
    docx_bytes = make_docx({"word/afchunk.mht": b"MIME-Version: 1.0\r\n"})
    refused(docx_bytes, "chunk.docx", says="无法检查的 MHT/RTF 内容")


def test_docx_xml_part_hidden_behind_another_extension_is_refused():
    types = CONTENT_TYPES.replace(
        "</Types>",
        '<Override PartName="/word/main.dat" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>',
    )
    docx_bytes = make_docx({"[Content_Types].xml": types})
    refused(docx_bytes, "disguised.docx", says="文档结构不规范")


def test_docx_without_document_xml_is_refused():
    members = docx_members()
    del members["word/document.xml"]
    refused(make_zip(members), "空.docx", says="缺少正文")


@pytest.mark.parametrize(
    "raw",
    [b"", b"PK\x03\x04 truncated", b"plain text, not a zip", make_docx()[:-40]],
)
def test_corrupt_docx_is_refused(raw):
    refused(raw, "损坏.docx", says="文件已损坏或不是有效的 DOCX 文件")


def test_legacy_or_encrypted_office_file_is_refused_with_advice():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000)
    refused(ole, "旧格式.docx", says="另存为 DOCX")
    refused(ole, "旧格式.xlsx", says="另存为 XLSX")


def test_malformed_xml_is_refused():
    docx_bytes = make_docx({"word/document.xml": "<w:document><w:body>unclosed"})
    refused(docx_bytes, "malformed.docx", says="文件已损坏或无法解析")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    f"<w:document {W}><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_doctype_is_refused_in_any_encoding(encoding):
    xml = BILLION_LAUGHS.replace('version="1.0"', f'version="1.0" encoding="{encoding}"')
    docx_bytes = make_docx({"word/document.xml": xml.encode(encoding)})
    refused(docx_bytes, "entity.docx", says="DOCTYPE")
    xlsx_bytes = make_xlsx({"xl/sharedStrings.xml": xml.encode(encoding)})
    refused(xlsx_bytes, "entity.xlsx", says="DOCTYPE")


def test_document_xml_in_utf16_is_read():
    xml = word_part("document", DOCUMENT_BODY).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    docx_bytes = make_docx({"word/document.xml": xml.encode("utf-16")})
    assert ID_NUMBER in extract(docx_bytes, name="utf16.docx").text


# Zip bombs -----------------------------------------------------------------------------------

ZEROS = bytes(20 * 1024 * 1024)  # deflates about 1000:1


@pytest.mark.parametrize("name,build", [("bomb.docx", make_docx), ("bomb.xlsx", make_xlsx)])
def test_zip_bomb_over_declared_unzipped_total_is_refused(name, build):
    bomb = build({"word/media/zeros.bin": ZEROS})
    assert len(bomb) < 100_000
    limits = Limits(max_unzipped_bytes=10 * 1024 * 1024)
    refused(bomb, name, limits=limits, says="解压后内容超过上限（10 MB）")


@pytest.mark.parametrize("name,build", [("ratio.docx", make_docx), ("ratio.xlsx", make_xlsx)])
def test_zip_bomb_over_compression_ratio_is_refused(name, build):
    refused(build({"word/media/zeros.bin": ZEROS}), name, says="压缩比异常")
    # Small, very compressible members are normal and skip the ratio check.
    assert extract(build({"word/media/small.bin": bytes(500_000)}), name=name).text


def test_actual_decompressed_size_is_capped_even_if_the_directory_lies(monkeypatch):
    monkeypatch.setattr(extract_module, "_check_declared_sizes", lambda *a, **k: None)
    body = "<w:body>" + "<w:p><w:r><w:t>填充</w:t></w:r></w:p>" * 100_000 + "</w:body>"
    docx_bytes = make_docx({"word/document.xml": word_part("document", body)})
    limits = Limits(max_unzipped_bytes=1024 * 1024)
    refused(docx_bytes, "lying.docx", limits=limits, says="解压后内容超过上限")


def test_zip_with_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(extract_module, "MAX_ZIP_MEMBERS", 5)
    refused(make_docx(), "many.docx", says="文件数量异常")


def test_encrypted_zip_member_is_refused():
    # zipfile cannot write encrypted members: set the "encrypted" flag bit in every header.
    locked = bytearray(make_docx())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = locked.find(signature)
        while at != -1:
            locked[at + flag_offset] |= 0x1
            at = locked.find(signature, at + 4)
    refused(bytes(locked), "locked.docx", says="加密")


# XLSX ----------------------------------------------------------------------------------------


def test_xlsx_cells_rows_and_everything_else():
    text = extract(make_xlsx(), name="花名册.xlsx").text
    lines = text.splitlines()
    assert "姓名\t银行卡" in lines  # shared string, inline string; empty styled cell skipped
    assert f"张三\t6222021234567890123\t{ID_NUMBER}\t110105200501000000\t1\t42.5" in lines
    assert "ZHANG" not in text  # phonetic guide is not cell text
    assert "SUM(" not in text
    assert "隐藏内容" in lines  # hidden sheet
    assert "花名册" in lines and "隐藏表" in lines  # sheet names
    assert "&C联系电话 13800138000" in lines  # printed footer
    assert "批注：请核对" in text
    assert "http://spam.example/xlsx" in lines
    assert "期末通知" in lines


def test_xlsx_authored_with_openpyxl():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "学生"
    sheet.append(["姓名", "身份证号", "卡号"])
    sheet.append(["李四", ID_NUMBER, 6222021234567890123])
    sheet.append(["王五", 110105200501011234.0, 3.5])
    out = io.BytesIO()
    workbook.save(out)
    lines = extract(out.getvalue(), name="学生.xlsx").text.splitlines()
    assert "学生" in lines
    assert "姓名\t身份证号\t卡号" in lines
    # openpyxl, like Excel, stores numbers as doubles in exponent form (6.22202123456789e+18):
    # the digits that survive come out as an integer.
    assert f"李四\t{ID_NUMBER}\t6222021234567890000" in lines
    assert "王五\t110105200501011200\t3.5" in lines


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1.10105200501E+17", "110105200501000000"),
        ("6.2220212345678902E+18", "6222021234567890200"),
        ("-1.5E+3", "-1500"),
        ("1.5E-3", "1.5E-3"),
        ("1.25E+1", "1.25E+1"),
        ("1E+999999999", "1E+999999999"),
        ("42", "42"),
        ("3.14", "3.14"),
    ],
)
def test_scientific_numbers(raw, expected):
    started = time.perf_counter()
    result = extract_module._number_text(raw)
    assert result == expected
    assert time.perf_counter() - started < 0.1


def test_xlsx_without_workbook_is_refused():
    members = dict(XLSX_MEMBERS)
    del members["xl/workbook.xml"]
    refused(make_zip(members), "无工作簿.xlsx", says="缺少工作簿")


def test_xlsx_broken_shared_string_reference_is_refused():
    sheet = f'<worksheet {S}><sheetData><row><c t="s"><v>99</v></c></row></sheetData></worksheet>'
    refused(make_xlsx({"xl/worksheets/sheet1.xml": sheet}), "坏引用.xlsx", says="文件已损坏")


def test_xlsx_second_shared_string_table_is_refused():
    decoy = XLSX_MEMBERS["xl/sharedStrings.xml"]
    refused(make_xlsx({"xl/strings2.xml": decoy}), "decoy.xlsx", says="多个共享字符串表")


# Robustness: nothing but ExtractionError escapes ---------------------------------------------


@pytest.mark.parametrize(
    "name,raw",
    [
        ("fuzz.docx", make_docx()),
        ("fuzz.xlsx", make_xlsx()),
        ("fuzz.pdf", make_pdf([["Fuzz 110105200501011234"], ["second"]], title="T")),
    ],
)
def test_damaged_files_only_ever_raise_extraction_error(name, raw):
    chance = random.Random(20260101)
    for _ in range(60):
        damaged = bytearray(raw)
        if chance.random() < 0.5:
            del damaged[chance.randrange(len(damaged)) :]
        else:
            for _ in range(chance.randint(1, 8)):
                damaged[chance.randrange(len(damaged))] = chance.randrange(256)
        try:
            result = extract(bytes(damaged), name=name)
        except ExtractionError as error:
            assert name in str(error)
        else:
            assert isinstance(result.text, str)
