"""What the chained logs' commands (``publication_log``, ``security_log``) share: exit codes,
dates, sub-command dispatch, progress, and ``verify`` and ``checkpoint`` of the log the command
is about.

Exit codes: 0 intact, 1 tampered, 2 error.
"""

import datetime
import sys

from django.core.management.base import BaseCommand, CommandError

from review.register.chain import ChainedLog
from review.register.checkpoints import make_checkpoint
from review.register.verification import Report

EXIT_INTACT, EXIT_TAMPERED, EXIT_ERROR = 0, 1, 2


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}", returncode=EXIT_ERROR) from error


class LogCommand(BaseCommand):
    """Sub-commands are ``do_<action>`` methods returning the exit code."""

    log: ChainedLog

    def add_verify_arguments(self, verify) -> None:
        verify.add_argument("--jobs", type=int, default=None,
                            help="并行进程数（默认为处理器核数）")

    @staticmethod
    def add_date_arguments(parser, *, what: str) -> None:
        """--from and --to: a range of days (Beijing days, both included, either open)."""
        for flag, dest, side in (("--from", "date_from", "以后"), ("--to", "date_to", "以前")):
            parser.add_argument(flag, dest=dest, type=parse_date,
                                help=f"只导出此日期（含，北京时间）{side}{what}，格式 YYYY-MM-DD")

    def handle(self, *args, action, **options):
        code = getattr(self, "do_" + action.replace("-", "_"))(**options)
        if code:
            sys.exit(code)

    def progress(self, label: str):
        def report(done: int, total: int | None = None) -> None:
            suffix = f"/{total} ({done * 100 // max(total, 1)}%)" if total else ""
            self.stderr.write(f"\r{label} {done}{suffix}", ending="")
            self.stderr.flush()
        return report

    def write_verification(self, report: Report) -> int:
        self.stderr.write("")
        if not report.intact:
            self.stdout.write(self.style.ERROR(
                f"TAMPERED {self.log.title}被篡改：{report.problems[0]}"))
            return EXIT_TAMPERED
        root = report.root.hex() if report.root else "-"
        signatures = f"{report.signatures} 个签名，" if report.signatures else ""
        self.stdout.write(self.style.SUCCESS(
            f"INTACT {self.log.title}完好：{report.entries} 条，{signatures}"
            f"{report.checkpoints} 个检查点一致；根哈希 {root}"))
        return EXIT_INTACT

    def do_checkpoint(self, **_):
        checkpoint = make_checkpoint(log=self.log, force=True)
        self.stdout.write(checkpoint.note)
        return EXIT_INTACT
