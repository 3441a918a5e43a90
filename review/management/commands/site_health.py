"""python manage.py site_health [--site SLUG] [--format json|text|xlsx] [--output FILE]:
each site's health against the inspection indicators (review.health). Exits 0 whatever the
sites' health: the report says it, not the exit status."""

import json
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from review.exceptions import HealthError
from review.health import report, sources


class Command(BaseCommand):
    help = "按检查指标评估网站健康：栏目更新、空白栏目、链接、可用性、单项否决与预警。"

    def add_arguments(self, parser):
        parser.add_argument("--site", metavar="SLUG", help="只评估这个网站（首页的 slug）")
        parser.add_argument("--format", choices=("json", "text", "xlsx"), default="json",
                            help="输出格式（默认 json）")
        parser.add_argument("--output", metavar="FILE", help="写入文件而不是标准输出")

    def handle(self, *args, site, format, output, **options):
        try:
            healths = report.site_health(sources.sites(slug=site))
        except HealthError as error:
            # Still exit 0 (the contract): the error is said on stderr, no sites reported.
            self.stderr.write(str(error))
            healths = []
        if format == "xlsx":
            data = report.as_xlsx(healths)
        elif format == "text":
            data = report.as_text(healths).encode()
        else:
            data = (json.dumps(report.as_json(healths), ensure_ascii=False, indent=2)
                    + "\n").encode()
        if output:
            self._write(Path(output), data)
            self.stderr.write(f"已写入 {output}")
        else:
            stream = getattr(self.stdout, "_out", sys.stdout)
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(data.decode("utf-8", errors="replace") if format != "xlsx"
                             else data.hex())

    def _write(self, path: Path, data: bytes) -> None:
        """Whole or not at all: a temporary file beside the target, renamed over it."""
        try:
            handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."),
                                                 prefix=f".{path.name}.")
        except OSError as error:
            self.stderr.write(f"无法写入 {path}：{error.strerror}")
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            self.stderr.write(f"无法写入 {path}：{error.strerror}")
