"""security_log verify | export | checkpoint | prune — the security audit log's tools
(安全审计日志, 等保 8.1.4.3).

The security log is append-only and chained like the publication register, with checkpoints
signed by the same log key; nothing in the application deletes its events (``prune`` deletes
only Wagtail's own audit log — the admin's history — older than ``AUDIT_LOG_RETENTION_DAYS``).

Exit codes: 0 intact, 1 tampered, 2 error.
"""

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from review.management.logcommand import (
    EXIT_ERROR,
    EXIT_INTACT,
    LogCommand,
)
from review.register.chain import SECURITY_LOG
from review.register.logkey import load_log_key
from review.register.security import command_actor, record_security_event
from review.register.signednote import NoteError
from review.register.verification import verify_entry_lines, verify_security_log
from review.retention import prune_audit_log, retention_days
from review.security_report import FORMATS, security_events, write_security_log


class Command(LogCommand):
    help = "安全审计日志：核验、导出、生成检查点、清理过期的操作日志。"
    log = SECURITY_LOG

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        verify = commands.add_parser("verify", help="核验哈希链、各列与记录内容、检查点")
        self.add_verify_arguments(verify)
        verify.add_argument("--file", type=Path,
                            help="核验导出的 JSONL 文件（不需要数据库），而不是数据库")
        verify.add_argument("--checkpoint", type=Path,
                            help="与 --file 同用：检查点文件（checkpoint 命令的输出），"
                                 "核对其签名及文件前若干条的根哈希")

        export = commands.add_parser("export", help="导出安全审计日志（导出本身也记入日志）")
        self.add_date_arguments(export, what="的事件")
        export.add_argument("--format", choices=FORMATS, default=None,
                            help="jsonl：原样的记录，可离线核验（默认）；csv、xlsx：表格")
        export.add_argument("-o", "--output", type=Path,
                            help="输出文件（须不存在）；不给则写到标准输出（xlsx 除外）")

        commands.add_parser("checkpoint", help="立即生成并签署一个检查点")

        prune = commands.add_parser(
            "prune", help="删除超过保存期限（AUDIT_LOG_RETENTION_DAYS，至少 180 天）的 Wagtail "
                          "操作日志；安全审计日志本身从不删除")
        prune.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def do_verify(self, *, jobs, file, checkpoint, **_):
        if file is not None:
            return self.verify_file(file, checkpoint)
        if checkpoint is not None:
            raise CommandError("--checkpoint 须与 --file 同用。", returncode=EXIT_ERROR)
        return self.write_verification(
            verify_security_log(jobs=jobs, progress=self.progress("核验")))

    def verify_file(self, file: Path, checkpoint_file: Path | None) -> int:
        try:
            note = checkpoint_file.read_text(encoding="utf-8") if checkpoint_file else None
            with open(file, "rb") as lines:
                report = verify_entry_lines(
                    lines, checkpoint=note,
                    public_key_raw=load_log_key().public_key().public_bytes_raw())
        except OSError as error:
            raise CommandError(f"无法读取：{error}", returncode=EXIT_ERROR) from error
        except NoteError as error:
            raise CommandError(f"检查点格式不正确：{error}", returncode=EXIT_ERROR) from error
        return self.write_verification(report)

    def do_export(self, *, date_from, date_to, format, output, **_):
        if date_from and date_to and date_from > date_to:
            raise CommandError("起始日期晚于结束日期。", returncode=EXIT_ERROR)
        fmt = format or (output.suffix.lstrip(".").lower() if output else "") or "jsonl"
        if fmt not in FORMATS:
            raise CommandError(f"不支持的格式 {fmt}（可用：{'、'.join(FORMATS)}）。",
                               returncode=EXIT_ERROR)
        if output is None and fmt == "xlsx":
            raise CommandError("xlsx 须用 -o 指定输出文件。", returncode=EXIT_ERROR)
        if output is not None and output.exists():
            raise CommandError(f"{output} 已存在：不会覆盖。", returncode=EXIT_ERROR)
        events = security_events(date_from=date_from, date_to=date_to)
        if output is None:
            count = write_security_log(events=events, fmt=fmt, handle=sys.stdout.buffer)
        else:
            count = self.write_file(output, events=events, fmt=fmt)
        record_security_event(
            event="security_log_exported", actor_name=command_actor(),
            subject=str(output) if output else "标准输出",
            data={"format": fmt, "via": "manage.py security_log export", "entries": count,
                  "from": date_from.isoformat() if date_from else None,
                  "to": date_to.isoformat() if date_to else None})
        if output is not None:
            self.stderr.write(f"已导出 {count} 条安全事件到 {output}（{fmt}）。")
        return EXIT_INTACT

    @staticmethod
    def write_file(output: Path, *, events, fmt: str) -> int:
        """The file appears whole or not at all."""
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{output.name}-", dir=output.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                count = write_security_log(events=events, fmt=fmt, handle=handle)
            os.link(staging, output)  # refuses to replace a file made meanwhile
        finally:
            os.unlink(staging)
        return count

    def do_prune(self, *, dry_run, **_):
        days = retention_days(setting="AUDIT_LOG_RETENTION_DAYS")
        counts = prune_audit_log(dry_run=dry_run)
        total = sum(counts.values())
        detail = "，".join(f"{label} {count} 条" for label, count in counts.items())
        if dry_run:
            self.stdout.write(f"超过 {days} 天的操作日志共 {total} 条（{detail}）；未删除。")
            return EXIT_INTACT
        if total:
            record_security_event(event="audit_log_pruned", actor_name=command_actor(),
                                  subject="Wagtail 操作日志",
                                  data={"days": days, "deleted": counts})
        self.stdout.write(f"已删除超过 {days} 天的操作日志 {total} 条（{detail}）。"
                          "安全审计日志不删除。")
        return EXIT_INTACT
