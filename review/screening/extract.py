"""Plain text from uploaded attachments, so that content screening can read them too.

Screening (sensitive words, students' ID, phone and bank-card numbers, hidden spam links) must
cover what is inside attachments as well as what is on the page: a notice whose body is clean
but whose attached spreadsheet lists every pupil's ID number must not go live unread. This
module turns an attachment into text; it does not screen.

Attachments come from uploads, so a hostile or broken file must not exhaust the server: every
format is read under `Limits` (file size, PDF pages, decompressed size and compression ratio of
DOCX/XLSX zip containers, length of the extracted text). A file that breaks a limit, or that
cannot be read completely, raises `ExtractionError` with a sentence fit to show the uploader.
Nothing is truncated silently: a screener must never pass text it did not read.

XML inside DOCX/XLSX is read with the standard library's expat parser as a stream (no tree is
built, memory stays flat). Expat 2.4+ guards against entity expansion ("billion laughs"), and we
also refuse any part that declares a DOCTYPE, so no entity can be defined at all. Every XML part
of the package is read, not only the well-known ones, so text in text boxes, footnotes, comments,
SmartArt, drawings or a renamed part is screened as well; so are HTML chunks Word renders into
a document, and the external link targets stored in relationship parts (where Word and Excel
keep hyperlink addresses). Images and embedded objects are not read.
"""

from __future__ import annotations

import functools
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Protocol
from xml.parsers import expat

import pypdf
from pypdf import PasswordType

from review.exceptions import ExtractionError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * MB  # the file itself
    max_pdf_pages: int = 500
    max_unzipped_bytes: int = 200 * MB  # DOCX/XLSX: declared and actual decompressed total
    max_compression_ratio: int = 100  # per zip member, uncompressed / compressed
    max_chars: int = 20_000_000  # extracted text


SUPPORTED = (".html", ".htm", ".txt", ".md", ".csv", ".pdf", ".docx", ".xlsx")


@dataclass(frozen=True)
class Extracted:
    text: str
    is_html: bool  # True for .html/.htm: text is the decoded HTML source, markup included


# Members smaller than this skip the compression-ratio check: small, very repetitive XML parts
# (an empty sheet, a styles part) compress far better than 100:1 and are harmless.
RATIO_CHECK_MIN_BYTES = 1 * MB
# Parsing a zip's central directory costs time and memory per entry; real DOCX/XLSX files
# have tens to a few hundred members. Counted before zipfile parses the directory.
MAX_ZIP_MEMBERS = 10_000
CHUNK_BYTES = 64 * 1024

_HTML = (".html", ".htm")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls, or an encrypted OOXML file
_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"


def extract(
    data: bytes | BinaryIO | str | os.PathLike, *, name: str, limits: Limits = Limits()
) -> Extracted:
    """Text of the attachment ``data`` called ``name`` (its extension selects the format).

    ``data`` is the file's bytes, a binary file object, or a path to read. Raises
    `ExtractionError` for unsupported, oversized, encrypted, hostile or broken files; an
    `OSError` from opening a path the caller gave is not the uploader's fault and propagates.
    """
    extension = os.path.splitext(name)[1].lower()
    if extension not in SUPPORTED:
        formats = "、".join(SUPPORTED)
        raise ExtractionError(f"不支持的附件格式（仅支持 {formats}）：{name}")
    raw = _read_input(data, name=name, limits=limits)
    try:
        text = _EXTRACTORS[extension](raw, name=name, limits=limits)
    except ExtractionError:
        raise
    except Exception as exc:  # the boundary: no parser's own exception reaches the caller
        raise ExtractionError(f"文件已损坏或无法解析：{name}") from exc
    if len(text) > limits.max_chars:
        raise _too_much_text(name, limits)
    return Extracted(text=text, is_html=extension in _HTML)


# Input ---------------------------------------------------------------------------------------


def _read_input(data: bytes | BinaryIO | str | os.PathLike, *, name: str, limits: Limits) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = data if isinstance(data, bytes) else bytes(data)
    elif isinstance(data, str | os.PathLike):
        with open(data, "rb") as stream:
            raw = _read_at_most(stream, limits.max_bytes + 1)
    elif hasattr(data, "read"):
        raw = _read_at_most(data, limits.max_bytes + 1)
    else:
        raise TypeError(f"extract() needs bytes, a binary file object or a path, not {data!r}")
    if len(raw) > limits.max_bytes:
        raise ExtractionError(f"文件大小超过上限（{_size(limits.max_bytes)}）：{name}")
    return raw


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes; loops because raw streams may return short reads."""
    parts, size = [], 0
    while size < limit:
        chunk = stream.read(min(limit - size, CHUNK_BYTES * 16))
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("extract() needs a binary file object (opened with 'rb')")
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB and n % MB == 0 else f"{n:,} 字节"


def _too_much_text(name: str, limits: Limits) -> ExtractionError:
    return ExtractionError(f"提取的文字超过上限（{limits.max_chars:,} 个字符）：{name}")


class _Text:
    """Extracted text, refused as soon as it grows past ``max_chars``."""

    def __init__(self, *, name: str, limits: Limits) -> None:
        self._name, self._limits = name, limits
        self._blocks: list[str] = []
        self._pending: list[str] = []
        self._chars = 0
        self._ends_line = True

    def add(self, text: str) -> None:
        if not text:
            return
        self._chars += len(text)
        if self._chars > self._limits.max_chars:
            raise _too_much_text(self._name, self._limits)
        self._pending.append(text)
        self._ends_line = text.endswith("\n")
        if len(self._pending) >= 4096:  # many tiny pieces cost far more memory than one string
            self._blocks.append("".join(self._pending))
            self._pending.clear()

    def end_line(self) -> None:
        """Start what comes next on a new line (between parts of a document)."""
        if not self._ends_line:
            self.add("\n")

    def value(self) -> str:
        return "".join(self._blocks) + "".join(self._pending)


# Plain text and HTML -------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),  # the utf-16 codec reads and drops the BOM itself
    (b"\xfe\xff", "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.I)
# Declared charsets we honour, as Python codecs. Browsers read GBK and GB2312 as GB18030 (a
# superset). Anything else declared is ignored and the content itself decides.
_DECLARED_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
}


def _extract_text(raw: bytes, *, name: str, limits: Limits) -> str:
    return _decode(raw, name=name)


def _extract_html(raw: bytes, *, name: str, limits: Limits) -> str:
    match = _META_CHARSET.search(raw[:2048])
    declared = match and _DECLARED_CHARSETS.get(match.group(1).decode("ascii").lower())
    return _decode(raw, name=name, declared=declared or None)


def _decode(raw: bytes, *, name: str, declared: str | None = None) -> str:
    """A BOM decides alone; otherwise the declared charset (HTML), strict UTF-8, GB18030."""
    bom_codec = next((codec for bom, codec in _BOMS if raw.startswith(bom)), None)
    for codec in (bom_codec,) if bom_codec else (declared, "utf-8", "gb18030"):
        if codec is None:
            continue
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # binary data, or UTF-16 without a BOM: we would misread it
            raise ExtractionError(f"文件含有二进制内容，不是可识别的文本文件：{name}")
        return text
    raise ExtractionError(f"无法识别文本编码（支持 UTF-8、UTF-16、GBK/GB18030）：{name}")


# PDF -----------------------------------------------------------------------------------------


def _extract_pdf(raw: bytes, *, name: str, limits: Limits) -> str:
    try:
        return _pdf_text(raw, name=name, limits=limits)
    except ExtractionError:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on hostile or broken files
        raise ExtractionError(f"PDF 文件已损坏或无法解析：{name}") from exc


def _pdf_text(raw: bytes, *, name: str, limits: Limits) -> str:
    reader = pypdf.PdfReader(io.BytesIO(raw))
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise ExtractionError(f"PDF 已加密（需要密码才能打开），无法检查内容：{name}")
    pages = len(reader.pages)
    if pages > limits.max_pdf_pages:
        raise ExtractionError(f"PDF 页数超过上限（{limits.max_pdf_pages} 页）：{name}")
    out = _Text(name=name, limits=limits)
    info = reader.metadata
    if info is not None:
        for value in (info.title, info.subject, info.keywords, info.author):
            if value:
                out.add(f"{value}\n")
    for number in range(pages):
        if number:
            out.add("\n")
        out.add(reader.pages[number].extract_text() or "")
    return out.value()


# DOCX and XLSX: zip containers ---------------------------------------------------------------


class _Handler(Protocol):
    def start(self, name: str, attrs: dict[str, str]) -> None: ...
    def end(self, name: str) -> None: ...
    def data(self, text: str) -> None: ...


class _Package:
    """A DOCX/XLSX zip, checked against zip bombs before any member is decompressed."""

    def __init__(self, raw: bytes, *, name: str, limits: Limits, kind: str) -> None:
        self.name, self._limits = name, limits
        if raw.startswith(_OLE_MAGIC):
            raise ExtractionError(
                f"文件已加密或是旧版 Office 格式（.doc/.xls），请另存为 {kind} 后重新上传：{name}"
            )
        if raw.count(_CENTRAL_DIRECTORY_ENTRY) > MAX_ZIP_MEMBERS:
            raise ExtractionError(f"压缩包内文件数量异常（超过 {MAX_ZIP_MEMBERS} 个）：{name}")
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(raw))
        except Exception as exc:
            raise ExtractionError(f"文件已损坏或不是有效的 {kind} 文件：{name}") from exc
        self.members = self._zip.infolist()
        _check_declared_sizes(self.members, name=name, limits=limits)
        self._unzipped = 0

    def has(self, member: str) -> bool:
        return any(info.filename.lower() == member for info in self.members)

    def members_ending(self, *suffixes: str) -> list[zipfile.ZipInfo]:
        return [i for i in self.members if i.filename.lower().endswith(suffixes)]

    def parse(self, info: zipfile.ZipInfo, choose: Callable[[str], _Handler]) -> None:
        """Stream one member through expat, to the handler ``choose`` picks for its root
        element: what a part is depends on its content, not on its name."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = self._refuse_doctype

        def root(name: str, attrs: dict[str, str]) -> None:
            handler = choose(_local(name))
            parser.StartElementHandler = handler.start
            parser.EndElementHandler = handler.end
            parser.CharacterDataHandler = handler.data
            handler.start(name, attrs)

        parser.StartElementHandler = root
        for chunk in self._chunks(info):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)

    def read(self, info: zipfile.ZipInfo) -> bytes:
        return b"".join(self._chunks(info))

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """A member's bytes, counting what is actually decompressed: declared sizes may lie."""
        with self._zip.open(info) as member:
            while chunk := member.read(CHUNK_BYTES):
                self._unzipped += len(chunk)
                if self._unzipped > self._limits.max_unzipped_bytes:
                    raise _unzipped_too_big(self.name, self._limits)
                yield chunk

    def _refuse_doctype(self, *_args: object) -> None:
        raise ExtractionError(f"文件包含不允许的 DTD（DOCTYPE）声明：{self.name}")


def _check_declared_sizes(members: list[zipfile.ZipInfo], *, name: str, limits: Limits) -> None:
    if sum(info.file_size for info in members) > limits.max_unzipped_bytes:
        raise _unzipped_too_big(name, limits)
    for info in members:
        if info.flag_bits & 0x1:
            raise ExtractionError(f"文件中含有加密内容，无法检查：{name}")
        if info.file_size < RATIO_CHECK_MIN_BYTES:
            continue
        ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
        if ratio > limits.max_compression_ratio:
            raise ExtractionError(f"文件压缩比异常（疑似压缩炸弹）：{name}")


def _unzipped_too_big(name: str, limits: Limits) -> ExtractionError:
    return ExtractionError(f"解压后内容超过上限（{_size(limits.max_unzipped_bytes)}）：{name}")


@functools.lru_cache(maxsize=1024)
def _local(name: str) -> str:
    """Local part of an expat ``"namespace-uri local"`` name."""
    return name.rpartition(" ")[2]


def _natural(name: str) -> list[object]:
    """Sort key putting sheet2.xml before sheet10.xml."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]


class _RunText:
    """Text of WordprocessingML/DrawingML/Math runs, in document order.

    ``t`` (w:t, a:t, m:t), deleted text and field instructions (where HYPERLINK addresses
    live) are kept; a run's tab is "\\t", a break "\\n", and every paragraph ends with "\\n".
    Table cells, text boxes, hidden text, comments and notes are all made of the same runs.
    """

    _TEXT = frozenset({"t", "delText", "instrText"})

    def __init__(self, out: _Text) -> None:
        self._out = out
        self._stack: list[str] = []
        self._in_text = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local, parent = _local(name), self._stack[-1] if self._stack else ""
        self._stack.append(local)
        if local in self._TEXT:
            self._in_text += 1
        elif local == "tab" and parent == "r":  # not the tab stops inside w:tabs
            self._out.add("\t")
        elif local in ("br", "cr") and parent in ("r", "p"):
            self._out.add("\n")
        elif local == "fldSimple":
            instruction = next((v for k, v in attrs.items() if _local(k) == "instr"), "")
            self._out.add(f" {instruction} ")

    def end(self, name: str) -> None:
        local = self._stack.pop()
        if local in self._TEXT:
            self._in_text -= 1
        elif local == "p":
            self._out.add("\n")

    def data(self, text: str) -> None:
        if self._in_text:
            self._out.add(text)


class _CoreProperties:
    """docProps/core.xml: title, subject, keywords, creator, description."""

    _FIELDS = frozenset({"title", "subject", "keywords", "creator", "description"})

    def __init__(self, out: _Text) -> None:
        self._out = out
        self._field: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        self._field = local if local in self._FIELDS else None

    def end(self, name: str) -> None:
        if self._field is not None:
            self._out.add("\n")
        self._field = None

    def data(self, text: str) -> None:
        if self._field is not None:
            self._out.add(text)


class _ExternalLinks:
    """Relationship parts: addresses of external targets (hyperlinks, linked images)."""

    def __init__(self, out: _Text) -> None:
        self._out = out

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and attrs.get("TargetMode") == "External":
            self._out.add(attrs.get("Target", "") + "\n")

    def end(self, name: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


_NO_TEXT_TYPES = ("image/", "application/vnd.openxmlformats-package.digital-signature")


class _ContentTypes:
    """[Content_Types].xml: refuse XML parts hidden behind a non-.xml name.

    Office finds parts through content types, not file names; we read every ``.xml`` and
    ``.rels`` member (and ``.xhtml`` chunks), so an XML part under another name could otherwise
    go unscreened.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def start(self, name: str, attrs: dict[str, str]) -> None:
        content_type = attrs.get("ContentType", "").lower()
        if not content_type.endswith("xml") or content_type.startswith(_NO_TEXT_TYPES):
            return
        local = _local(name)
        if local == "Default":
            unread = attrs.get("Extension", "").lower() not in ("xml", "rels", "xhtml")
        elif local == "Override":
            unread = not attrs.get("PartName", "").lower().endswith((".xml", ".rels", ".xhtml"))
        else:
            unread = False
        if unread:
            raise ExtractionError(f"文档结构不规范（XML 部件未使用 .xml 扩展名）：{self._name}")

    def end(self, name: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


def _common_handler(root: str, *, out: _Text, package: _Package) -> _Handler | None:
    if root == "coreProperties":
        return _CoreProperties(out)
    if root == "Relationships":
        return _ExternalLinks(out)
    if root == "Types":
        return _ContentTypes(package.name)
    return None


# DOCX ----------------------------------------------------------------------------------------

_WORD_MAIN = "word/document.xml"
# "Alternative format" chunks (w:altChunk): content Word renders into the document from an
# embedded file. HTML and plain text are read as text; MHT and RTF we cannot read, so refuse.
_ALT_CHUNK_TEXT = (".htm", ".html", ".xhtml", ".txt")
_ALT_CHUNK_UNREADABLE = (".mht", ".mhtml", ".rtf")


def _extract_docx(raw: bytes, *, name: str, limits: Limits) -> str:
    package = _Package(raw, name=name, limits=limits, kind="DOCX")
    if not package.has(_WORD_MAIN):
        raise ExtractionError(f"DOCX 文件缺少正文（{_WORD_MAIN}）：{name}")
    out = _Text(name=name, limits=limits)

    def choose(root: str) -> _Handler:
        return _common_handler(root, out=out, package=package) or _RunText(out)

    members = sorted(
        package.members_ending(".xml", ".rels"),
        key=lambda i: (i.filename.lower() != _WORD_MAIN, _natural(i.filename)),
    )
    for info in members:
        package.parse(info, choose)
        out.end_line()
    if package.members_ending(*_ALT_CHUNK_UNREADABLE):
        raise ExtractionError(f"DOCX 文件嵌入了无法检查的 MHT/RTF 内容：{name}")
    for info in package.members_ending(*_ALT_CHUNK_TEXT):
        out.add(_decode(package.read(info), name=name))
        out.end_line()
    return out.value()


# XLSX ----------------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_HEADER_FOOTER = frozenset(
    {"oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"}
)


def _number_text(raw: str) -> str:
    """Excel stores an 18-digit ID typed as a number as e.g. 1.10105200501E+17: give the
    integer's digits (what Excel shows in the cell) rather than the exponent form."""
    if not _SCIENTIFIC.fullmatch(raw):
        return raw
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return raw
    # Bound the exponent: int() of 1E+999999999 would build an enormous number.
    if not 0 <= value.adjusted() <= 40 or value != value.to_integral_value():
        return raw
    return str(int(value))


class _SharedStrings:
    """xl/sharedStrings.xml: one string per ``si``, rich-text runs joined, phonetic runs
    (``rPh``) left out as Excel does not show them in the cell."""

    def __init__(self, strings: list[str], *, name: str, limits: Limits) -> None:
        self._strings, self._name, self._limits = strings, name, limits
        self._parts: list[str] = []
        self._chars = 0
        self._phonetic = 0
        self._in_t = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self._parts = []
        elif local == "rPh":
            self._phonetic += 1
        elif local == "t":
            self._in_t = not self._phonetic

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "si":
            self._strings.append("".join(self._parts))
        elif local == "rPh":
            self._phonetic -= 1
        elif local == "t":
            self._in_t = False

    def data(self, text: str) -> None:
        if self._in_t:
            self._chars += len(text)
            if self._chars > self._limits.max_chars:  # all of it would be screened text
                raise _too_much_text(self._name, self._limits)
            self._parts.append(text)


class _Worksheet:
    """A worksheet: one line per row, non-empty cells separated by "\\t"; then the printed
    headers and footers."""

    def __init__(self, out: _Text, strings: list[str]) -> None:
        self._out, self._strings = out, strings
        self._row_cells = 0
        self._type = "n"
        self._value: list[str] = []
        self._inline: list[str] = []
        self._capture: list[str] | None = None
        self._phonetic = 0
        self._in_inline = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "row":
            self._row_cells = 0
        elif local == "c":
            self._type, self._value, self._inline = attrs.get("t", "n"), [], []
        elif local == "v":
            self._capture = self._value
        elif local == "is":
            self._in_inline = True
        elif local == "rPh":
            self._phonetic += 1
        elif local == "t" and self._in_inline and not self._phonetic:
            self._capture = self._inline
        elif local in _HEADER_FOOTER:
            self._capture = self._inline = []

    def end(self, name: str) -> None:
        local = _local(name)
        if local in ("v", "t"):
            self._capture = None
        elif local == "is":
            self._in_inline = False
        elif local == "rPh":
            self._phonetic -= 1
        elif local == "c":
            self._add_cell(self._cell_value())
        elif local == "row" and self._row_cells:
            self._out.add("\n")
        elif local in _HEADER_FOOTER:
            self._capture = None
            self._out.add("".join(self._inline) + "\n")

    def data(self, text: str) -> None:
        if self._capture is not None:
            self._capture.append(text)

    def _cell_value(self) -> str:
        value = "".join(self._value)
        if self._type == "s":
            return self._strings[int(value)] if value else ""  # a bad index is a broken file
        if self._type == "inlineStr":
            return "".join(self._inline)
        if self._type == "n":
            return _number_text(value.strip())
        return value  # str (formula result), b, e, d

    def _add_cell(self, value: str) -> None:
        if not value:
            return
        if self._row_cells:
            self._out.add("\t")
        self._out.add(value)  # added cell by cell so a huge row is refused early
        self._row_cells += 1


class _SheetNames:
    """xl/workbook.xml: the name of every sheet, hidden ones included."""

    def __init__(self, out: _Text) -> None:
        self._out = out

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "sheet":
            self._out.add(attrs.get("name", "") + "\n")

    def end(self, name: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass


def _xlsx_order(info: zipfile.ZipInfo) -> tuple[int, list[object]]:
    """Shared strings before the sheets that refer to them, then workbook, sheets, the rest."""
    lowered = info.filename.lower()
    if lowered.endswith("sharedstrings.xml"):
        rank = 0
    elif lowered == "xl/workbook.xml":
        rank = 1
    elif lowered.startswith("xl/worksheets/") and lowered.count("/") == 2:
        rank = 2
    else:
        rank = 3
    return rank, _natural(info.filename)


def _extract_xlsx(raw: bytes, *, name: str, limits: Limits) -> str:
    package = _Package(raw, name=name, limits=limits, kind="XLSX")
    if not package.has("xl/workbook.xml"):
        raise ExtractionError(f"XLSX 文件缺少工作簿（xl/workbook.xml）：{name}")
    out = _Text(name=name, limits=limits)
    strings: list[str] = []
    seen: set[str] = set()

    def choose(root: str) -> _Handler:
        if root == "sst":
            if "sst" in seen:  # a second table could make cells resolve to decoy strings
                raise ExtractionError(f"XLSX 文件含有多个共享字符串表：{name}")
            seen.add("sst")
            return _SharedStrings(strings, name=name, limits=limits)
        if root == "worksheet":
            return _Worksheet(out, strings)
        if root == "workbook":
            return _SheetNames(out)
        return _common_handler(root, out=out, package=package) or _RunText(out)

    for info in sorted(package.members_ending(".xml", ".rels"), key=_xlsx_order):
        package.parse(info, choose)
        out.end_line()
    return out.value()


_EXTRACTORS: dict[str, Callable[..., str]] = {
    ".html": _extract_html,
    ".htm": _extract_html,
    ".txt": _extract_text,
    ".md": _extract_text,
    ".csv": _extract_text,
    ".pdf": _extract_pdf,
    ".docx": _extract_docx,
    ".xlsx": _extract_xlsx,
}
