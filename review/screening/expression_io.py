"""Reading and writing the lists of review.screening.expression: protected names (CSV
``name,title,note`` or plain text, one name a line), wording rules (CSV
``wrong,right,severity,note``) and typos (CSV ``wrong,right``).

All or nothing, as lexicon files: every bad row is reported with its line number and nothing
is imported unless every row is good. Plain functions, no Django.
"""

import csv
import io
from dataclasses import dataclass

from review.exceptions import LexiconFileError
from review.screening.matching import SEVERITIES

MAX_NOTE = 255


@dataclass(frozen=True)
class Spec:
    """One list's file format: its columns, which are required, their longest values."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    lengths: dict
    plain_column: str | None  # a file without a header is this column, one value a line
    key: tuple[str, ...]  # what makes a row unique


NAMES = Spec(("name", "title", "note"), ("name",),
             {"name": 100, "title": 100, "note": MAX_NOTE}, "name", ("name", "title"))
WORDING = Spec(("wrong", "right", "severity", "note"), ("wrong", "right"),
               {"wrong": 100, "right": 100, "severity": 8, "note": MAX_NOTE}, None, ("wrong",))
TYPOS = Spec(("wrong", "right"), ("wrong", "right"), {"wrong": 50, "right": 50}, None,
             ("wrong",))
LABELS = {"name": "名称", "title": "职务", "note": "备注", "wrong": "错误写法",
          "right": "正确写法", "severity": "处理级别"}


def parse(text: str, spec: Spec) -> list[dict]:
    """The rows of a file (dicts of ``spec.columns``, plus ``line``); LexiconFileError
    listing every bad row."""
    lines = text.splitlines()
    first = [cell.strip().lower() for cell in next(csv.reader(lines[:1]), [])]
    errors: list[str] = []
    if first and first[0] == spec.columns[0]:
        unknown = set(first) - set(spec.columns)
        missing = set(spec.required) - set(first)
        if unknown or missing:
            raise LexiconFileError([f"第 1 行：表头应为 {','.join(spec.columns)}"
                                    + (f"；不认识的列 {', '.join(sorted(unknown))}" if unknown
                                       else "")
                                    + (f"；缺少列 {', '.join(sorted(missing))}" if missing
                                       else "") + "。"])
        reader = csv.DictReader(io.StringIO(text), fieldnames=first)
        next(reader)
        records = ((reader.line_num, record) for record in reader)
    elif spec.plain_column is not None:
        records = ((number, {spec.plain_column: line}) for number, line in
                   enumerate(lines, start=1))
    else:
        raise LexiconFileError([f"第 1 行：缺少表头 {','.join(spec.columns)}。"])
    rows, seen = [], {}
    for line, record in records:
        if None in record:
            errors.append(f"第 {line} 行：列数多于表头。")
            continue
        row = {column: (record.get(column) or "").strip() for column in spec.columns}
        if not any(row.values()) or row[spec.columns[0]].startswith("#"):
            continue
        where = f"第 {line} 行"
        for column in spec.required:
            if len(row[column]) < 2:
                errors.append(f"{where}：{LABELS[column]}“{row[column]}”至少两个字符。")
        for column, longest in spec.lengths.items():
            if len(row[column]) > longest:
                errors.append(f"{where}：{LABELS[column]}超过 {longest} 个字符。")
        if "severity" in row:
            row["severity"] = row["severity"].lower() or "block"
            if row["severity"] not in SEVERITIES:
                errors.append(f"{where}：处理级别“{row['severity']}”无效，应为 "
                              f"{'、'.join(SEVERITIES)}。")
        if "right" in row and row["right"] and row["right"] == row.get("wrong"):
            errors.append(f"{where}：错误写法与正确写法相同。")
        key = tuple(row[column] for column in spec.key)
        if key in seen:
            errors.append(f"{where}：与第 {seen[key]} 行重复。")
        seen.setdefault(key, line)
        rows.append({**row, "line": line})
    if errors:
        raise LexiconFileError(errors)
    return rows


def write_csv(rows: list[dict], spec: Spec) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.columns)
    writer.writerows([row.get(column, "") for column in spec.columns] for row in rows)
    return out.getvalue()
