"""publication_log export | verify | check-live | checkpoint | daily — the register's tools.

Exit codes: 0 intact, 1 tampered (or live content differing from what was signed), 2 error.
"""

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.apps import apps
from django.core.management.base import CommandError

from review.exceptions import ExportError
from review.management.logcommand import (
    EXIT_ERROR,
    EXIT_INTACT,
    EXIT_TAMPERED,
    LogCommand,
)
from review.pipeline.notifications import on_live_mismatches, send_checkpoint
from review.register import merkle
from review.register.chain import REGISTER
from review.register.checkpoints import leaf_hashes, make_checkpoint
from review.register.export import VERIFIER_FILES, export_bundle
from review.register.livecheck import MANUAL, check_everything
from review.register.livecheck import restore as restore_one
from review.register.models import Checkpoint
from review.register.security import command_actor, record_security_event
from review.register.verification import verify_register

logger = logging.getLogger(__name__)


class Command(LogCommand):
    help = "发布登记：导出审计包、核验、核对线上内容、生成检查点。"
    log = REGISTER

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        export = commands.add_parser("export", help="写出可离线核验的审计包")
        export.add_argument("--out", required=True, type=Path,
                            help="审计包目录（须不存在或为空）")
        export.add_argument("--site", help="只导出这个网站的登记（单位标识，如 yizhong、portal）")
        self.add_date_arguments(export, what="发布的登记")

        verify = commands.add_parser("verify", help="核验哈希链、签名和检查点")
        verify.add_argument("--bundle", type=Path, help="核验导出的审计包，而不是数据库")
        self.add_verify_arguments(verify)

        check = commands.add_parser("check-live", help="核对线上内容（及其他应用据此发布的内容，"
                                                       "如静态化文件）与签名批准的内容是否一致")
        check.add_argument("--restore", action="store_true",
                           help="恢复签名批准的版本（登记中所记），并重新生成或删除不一致的文件")
        check.add_argument("--notify", action="store_true",
                           help="给每个受影响网站的管理员和领导发邮件")

        prove = commands.add_parser("prove", help="打印包含证明（某条登记在检查点中）或一致性证明")
        prove.add_argument("--seq", type=int, help="要证明已包含的登记序号")
        prove.add_argument("--old-size", type=int, help="证明这一检查点大小的树是最新检查点的前缀")

        commands.add_parser("checkpoint", help="立即生成并签署一个检查点")
        commands.add_parser("daily", help="每日任务：生成检查点（邮件发给领导），"
                                          "再执行 check-live --notify")

    def do_export(self, *, out, site, date_from, date_to, **_):
        try:
            summary = export_bundle(out=out, site=site, date_from=date_from, date_to=date_to,
                                    progress=self.progress("导出"))
        except ExportError as error:
            raise CommandError(str(error), returncode=EXIT_ERROR) from error
        record_security_event(
            event="register_exported", actor_name=command_actor(), subject=str(summary.out),
            data={"format": "bundle", "via": "manage.py publication_log export",
                  "entries": summary.entries, "site": site,
                  "from": date_from.isoformat() if date_from else None,
                  "to": date_to.isoformat() if date_to else None})
        self.stderr.write("")
        self.stdout.write(
            f"已导出 {summary.entries} 条登记到 {summary.out}（树大小 {summary.tree_size}，"
            f"{summary.keys} 个签名公钥，{summary.checkpoints} 个检查点，"
            f"{'完整' if summary.complete else '按条件筛选'}）。\n"
            f"核验：python3 {summary.out}/verify_bundle.py {summary.out}")
        return EXIT_INTACT

    def do_verify(self, *, bundle, jobs, **_):
        if bundle is not None:
            return self.verify_bundle(bundle)

        return self.write_verification(
            verify_register(jobs=jobs, progress=self.progress("核验")))

    def verify_bundle(self, bundle: Path) -> int:
        """Run this project's copy of the verifier (never the one inside the bundle, which
        could have been replaced) with the bundle as data."""
        if not (bundle / "manifest.json").is_file():
            raise CommandError(f"{bundle} 不是审计包（缺少 manifest.json）。",
                               returncode=EXIT_ERROR)
        with tempfile.TemporaryDirectory() as tools:
            for name, source in VERIFIER_FILES.items():
                shutil.copyfile(source, Path(tools) / name)
            completed = subprocess.run([sys.executable, str(Path(tools) / "verify_bundle.py"),
                                        str(bundle)], capture_output=True, text=True)
        self.stdout.write(completed.stdout, ending="")
        self.stderr.write(completed.stderr, ending="")
        return completed.returncode

    def do_check_live(self, *, restore, notify, **_):
        mismatches = check_everything(progress=lambda n: self.progress("检查")(n))
        self.stderr.write("")
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("线上内容与签名批准的内容一致。"))
            return EXIT_INTACT
        lines = []
        manual = 0
        for mismatch in mismatches:
            line = str(mismatch)
            if restore:
                done = self.restore_one(mismatch)
                manual += done.startswith(MANUAL)
                line += f" → {done}"
            lines.append(line)
            self.stdout.write(self.style.ERROR(line))
        if manual:
            self.stderr.write(self.style.ERROR(f"有 {manual} 项无法自动恢复，须人工处理（见上）。"))
        if notify:
            self.notify(mismatches, lines)
        return EXIT_TAMPERED

    def restore_one(self, mismatch) -> str:
        """What restoring did; never a traceback for the operator: a failure nobody foresaw
        goes to the log, and the line says what a person must do."""
        try:
            return restore_one(mismatch)
        except Exception as error:
            logger.exception("check-live --restore 失败：%s", mismatch)
            return (f"{MANUAL}自动恢复时出错（{type(error).__name__}: {error}），未作更改；"
                    "详情见日志，请检查后手工恢复。")

    def notify(self, mismatches, lines) -> None:
        findings = []
        for mismatch, line in zip(mismatches, lines, strict=True):
            model = apps.get_model(mismatch.model) if "." in mismatch.model else None
            obj = model._default_manager.filter(pk=mismatch.object_id).first() if model else None
            findings.append((getattr(obj, "specific", obj), line))
        on_live_mismatches(findings)

    def do_prove(self, *, seq, old_size, **_):
        """Proofs against the latest checkpoint, as JSON an auditor checks with merkle.py."""
        checkpoint = Checkpoint.objects.order_by("-size", "-pk").first()
        if checkpoint is None or (seq is None) == (old_size is None):
            raise CommandError("需要已有检查点，并且只给 --seq 或 --old-size 之一。",
                               returncode=EXIT_ERROR)
        tree = merkle.MerkleTree(leaf_hashes(checkpoint.size))
        if seq is not None:
            if not 1 <= seq <= checkpoint.size:
                raise CommandError(f"第 {seq} 条不在最新检查点（共 {checkpoint.size} 条）中。",
                                   returncode=EXIT_ERROR)
            proof = {"seq": seq, "leaf_index": seq - 1, "tree_size": checkpoint.size,
                     "inclusion": [h.hex() for h in tree.inclusion_proof(seq - 1)]}
        else:
            if not 1 <= old_size <= checkpoint.size:
                raise CommandError(f"大小须在 1 到 {checkpoint.size} 之间。", returncode=EXIT_ERROR)
            proof = {"old_size": old_size, "new_size": checkpoint.size,
                     "old_root": tree.root(old_size).hex(),
                     "proof": [h.hex() for h in tree.consistency_proof(old_size)]}
        self.stdout.write(json.dumps({**proof, "checkpoint": checkpoint.note}, indent=2,
                                     ensure_ascii=False))
        return EXIT_INTACT

    def do_daily(self, **_):
        checkpoint = make_checkpoint()
        send_checkpoint(checkpoint)
        self.stdout.write(f"检查点：{checkpoint.size} 条，根哈希 {checkpoint.root_hash}")
        return self.do_check_live(restore=False, notify=True)
