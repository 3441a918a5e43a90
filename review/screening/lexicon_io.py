"""Reading and writing lexicon files: CSV with a header (``word,category,severity[,note]``,
or ``word[,note]`` for the allow list) or plain text, one word a line.

Parsing is plain and all-or-nothing: every bad row is reported with its line number and
nothing is imported unless every row is good. Plain functions, no Django.
"""

import csv
import io
from dataclasses import dataclass

from review.exceptions import LexiconFileError, TermError
from review.screening.matching import SEVERITIES, check_term

MAX_WORD = 100
MAX_CATEGORY = 50
MAX_NOTE = 255


@dataclass(frozen=True)
class Row:
    line: int
    word: str
    category: str = ""
    severity: str = ""
    note: str = ""


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB 18030, which Chinese office software writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LexiconFileError(["文件既不是 UTF-8 也不是 GB18030 编码。"])


def _header(first_line: str) -> list[str] | None:
    cells = [cell.strip().lower() for cell in next(csv.reader([first_line]), [])]
    return cells if cells and cells[0] == "word" else None


def parse(text: str, *, allow_list: bool = False, category: str = "",
          severity: str = "") -> list[Row]:
    """Rows of a lexicon file; ``category``/``severity`` fill what the file leaves out."""
    lines = text.splitlines()
    header = _header(lines[0]) if lines else None
    rows, errors = [], []
    if header is not None:
        expected = {"word", "note"} if allow_list else {"word", "category", "severity", "note"}
        unknown = set(header) - expected
        if unknown:
            raise LexiconFileError([f"第 1 行：不认识的列 {', '.join(sorted(unknown))}；"
                                    f"可用的列：{', '.join(sorted(expected))}。"])
        reader = csv.DictReader(io.StringIO(text), fieldnames=header)
        next(reader)  # the header
        records = ((reader.line_num, record) for record in reader)
    else:
        records = ((number, {"word": line}) for number, line in enumerate(lines, start=1))
    seen: dict[str, int] = {}
    for line, record in records:
        if None in record:
            errors.append(f"第 {line} 行：列数多于表头。")
            continue
        word = (record.get("word") or "").strip()
        if not word or word.startswith("#"):
            continue
        row = Row(line, word,
                  (record.get("category") or "").strip() or category,
                  (record.get("severity") or "").strip().lower() or severity,
                  (record.get("note") or "").strip())
        errors += _row_errors(row, allow_list=allow_list, seen=seen)
        rows.append(row)
    if errors:
        raise LexiconFileError(errors)
    return rows


def _row_errors(row: Row, *, allow_list: bool, seen: dict[str, int]) -> list[str]:
    errors = []
    where = f"第 {row.line} 行"
    try:
        check_term(row.word)
    except TermError as error:
        errors.append(f"{where}：{error}")
    if len(row.word) > MAX_WORD:
        errors.append(f"{where}：词条超过 {MAX_WORD} 个字符。")
    if row.word in seen:
        errors.append(f"{where}：“{row.word}”与第 {seen[row.word]} 行重复。")
    seen.setdefault(row.word, row.line)
    if len(row.note) > MAX_NOTE:
        errors.append(f"{where}：备注超过 {MAX_NOTE} 个字符。")
    if allow_list:
        return errors
    if not row.category:
        errors.append(f"{where}：缺少类别（文件中没有 category 列时用 --category 指定）。")
    elif len(row.category) > MAX_CATEGORY:
        errors.append(f"{where}：类别超过 {MAX_CATEGORY} 个字符。")
    if row.severity not in SEVERITIES:
        errors.append(f"{where}：处理级别“{row.severity}”无效，应为 {'、'.join(SEVERITIES)}。")
    return errors


def write_csv(rows: list[Row], *, allow_list: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if allow_list:
        writer.writerow(["word", "note"])
        writer.writerows([row.word, row.note] for row in rows)
    else:
        writer.writerow(["word", "category", "severity", "note"])
        writer.writerows([row.word, row.category, row.severity, row.note] for row in rows)
    return out.getvalue()
