"""python manage.py scan [--format json|text] PATH...

Screens files (.html .htm .txt .md .csv .pdf .docx .xlsx; directories are walked) with the
lexicon in the database, or the one ``--lexicon`` names (CSV or plain text; plain words are
``block``). JSON on stdout:
``{"files": [{"path", "findings": [{kind, severity, category, rule, start, end, match,
context, suggestion}]}]}`` (``suggestion``: what to write instead, for ``expression`` and
``typo`` findings; "" for the others); an unreadable file carries ``"error"`` instead.
Exit 0 when nothing blocks, 1 when anything does, 2 when a file could not be read (the rest
are still scanned).
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from review.exceptions import ExtractionError, LexiconFileError
from review.screening.extract import SUPPORTED
from review.screening.lexicon_io import decode, parse
from review.screening.matching import CompiledLexicon, Term
from review.screening.objects import current_lexicon
from review.screening.screener import BLOCK, screen_file

OUTPUT_KEYS = ("kind", "severity", "category", "rule", "start", "end", "match", "context",
               "suggestion")


def expand(paths: list[str]) -> list[Path]:
    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in SUPPORTED)
        else:
            files.append(path)
    return files


class Command(BaseCommand):
    help = "检查文件中的敏感词、学生个人信息、隐藏内容和不安全代码。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH",
                            help="要检查的文件或目录（检查目录下所有支持的文件）")
        parser.add_argument("--format", choices=("json", "text"), default="json",
                            help="输出格式（默认 json）")
        parser.add_argument("--lexicon", help="改用这个 CSV 词库，而不用数据库中的词库")
        parser.add_argument("--allow-list", help="与 --lexicon 合用的 CSV 允许短语表")

    def handle(self, *args, paths, format, lexicon, allow_list, **options):
        try:
            compiled = self.lexicon(lexicon, allow_list)
        except DatabaseError as error:
            raise CommandError(f"无法读取数据库中的词库（先运行 migrate，或用 --lexicon 指定"
                               f"词库文件）：{error}", returncode=2) from error
        results, errors, blocked = [], 0, False
        for path in expand(paths):
            try:
                findings = screen_file(path, name=path.name, lexicon=compiled)
            except (ExtractionError, OSError) as error:
                message = str(error) if isinstance(error, ExtractionError) else \
                    f"无法读取 {path}：{error.strerror}"
                results.append({"path": str(path), "error": message, "findings": []})
                errors += 1
                self.stderr.write(message)
                continue
            blocked = blocked or any(f.severity == BLOCK for f in findings)
            results.append({"path": str(path), "findings": [
                {key: getattr(f, key) for key in OUTPUT_KEYS} for f in findings]})
        self.write(results, format)
        code = 2 if errors else (1 if blocked else 0)
        if code:
            sys.exit(code)

    def lexicon(self, lexicon: str | None, allow_list: str | None) -> CompiledLexicon:
        if lexicon is None:
            return current_lexicon()
        try:
            rows = parse(decode(Path(lexicon).read_bytes()), severity="block", category="other")
            allowed = parse(decode(Path(allow_list).read_bytes()), allow_list=True) \
                if allow_list else []
        except OSError as error:
            raise CommandError(f"无法读取词库：{error}", returncode=2) from error
        except LexiconFileError as error:
            raise CommandError("词库文件有错误：\n" + "\n".join(error.errors),
                               returncode=2) from error
        return CompiledLexicon([Term(r.word, r.category, r.severity) for r in rows],
                               [r.word for r in allowed])

    def write(self, results: list[dict], format: str) -> None:
        if format == "json":
            self.stdout.write(json.dumps({"files": results}, ensure_ascii=False, indent=2))
            return
        for result in results:
            if "error" in result:
                self.stdout.write(f"{result['path']}: 错误：{result['error']}")
                continue
            self.stdout.write(f"{result['path']}: {len(result['findings'])} 处")
            for f in result["findings"]:
                self.stdout.write(f"  {f['start']}-{f['end']} [{f['severity']}] {f['kind']} "
                                  f"{f['rule']} “{f['match']}”"
                                  + (f" → “{f['suggestion']}”" if f["suggestion"] else "")
                                  + f" …{f['context']}…")
