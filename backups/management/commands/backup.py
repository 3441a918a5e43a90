"""python manage.py backup create [--push] | list [--format json] [--offsite] | verify [ID]
| restore ID [--force] | prune --keep-within 180d [--dry-run] | push [ID] | pull ID"""

import contextlib
import datetime
import errno
import fcntl
import json
import re
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from backups import database, offsite
from backups.objectstore import LockedBucket, ObjectStoreError
from backups.retention import MINIMUM_DAYS, retention_days
from backups.snapshots import (
    Repository,
    SnapshotError,
    put_in_place,
    restore_debris,
    staging_dir,
    walk_files,
)

EXIT_DAMAGED = 1
EXIT_ERROR = 2
DURATION = re.compile(r"^(\d+)([dhw])$")


def state_dir() -> Path:
    return Path(getattr(settings, "BACKUPS_STATE_DIR", None) or settings.DATA_DIR)


def repository() -> Repository:
    return Repository(getattr(settings, "BACKUPS_DIR", None) or state_dir() / "backups")


def excluded_paths() -> list[Path]:
    """Under the state directory but not part of a snapshot: the backups themselves, the
    live SQLite files (the dump stands for them) and collected static files."""
    excluded = [repository().root, Path(settings.STATIC_ROOT)]
    sqlite = database.sqlite_path()
    if sqlite is not None:
        excluded += [sqlite, Path(f"{sqlite}-wal"), Path(f"{sqlite}-shm")]
    return excluded


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # removed since it was listed
        return 0


def offsite_bucket() -> LockedBucket:
    alias = getattr(settings, "BACKUPS_OFFSITE_STORAGE", None)
    if not alias:
        raise CommandError("没有配置异地备份：设置 BACKUPS_OFFSITE_STORAGE（settings.STORAGES 中"
                           "一个启用了对象锁定的 S3 存储桶），见 README。", returncode=EXIT_ERROR)
    bucket = LockedBucket.from_alias(
        alias, mode=getattr(settings, "BACKUPS_OBJECT_LOCK_MODE", "COMPLIANCE"))
    bucket.check_lock_enabled()
    return bucket


def offsite_lock_days() -> int:
    return max(int(getattr(settings, "BACKUPS_OFFSITE_LOCK_DAYS", 0) or 0), retention_days())


def parse_duration(text: str) -> datetime.timedelta:
    match = DURATION.match(text)
    if match is None:
        raise CommandError(f"无法识别的时长“{text}”，应如 180d、26w。", returncode=EXIT_ERROR)
    number, unit = int(match.group(1)), match.group(2)
    return datetime.timedelta(**{{"d": "days", "h": "hours", "w": "weeks"}[unit]: number})


class Command(BaseCommand):
    help = "站点快照：数据库、媒体文件与原件的备份、核验、恢复与清理。"

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="立即做一次快照")
        create.add_argument("--push", action="store_true",
                            help="做完后复制到异地存储（BACKUPS_OFFSITE_STORAGE）")
        listing = commands.add_parser("list", help="列出快照，最早的在前")
        listing.add_argument("--format", choices=("json", "text"), default="text")
        listing.add_argument("--offsite", action="store_true",
                             dest="remote", help="改为列出异地存储桶中的快照")
        verify = commands.add_parser("verify", help="重读每个字节，核对每个哈希")
        verify.add_argument("id", nargs="?", help="只核验这个快照（默认：全部）")
        restore = commands.add_parser("restore", help="恢复到空的状态目录")
        restore.add_argument("id")
        restore.add_argument("--force", action="store_true",
                             help="覆盖已有的文件和数据恢复")
        prune = commands.add_parser("prune", help="删除早于指定时长的快照")
        prune.add_argument("--keep-within", required=True, help="例如 180d")
        prune.add_argument("--dry-run", action="store_true")
        push = commands.add_parser("push", help="把快照复制到异地存储（对象锁定）")
        push.add_argument("id", nargs="?", help="只推送这个快照（默认：异地尚无的全部快照）")
        pull = commands.add_parser("pull", help="从异地存储取回一个快照，以便恢复")
        pull.add_argument("id")

    def handle(self, *args, action, **options):
        try:
            code = getattr(self, "do_" + action)(**options)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise CommandError(
                    f"磁盘空间不足，已停止（{error.filename or error.strerror}）：没有生成不完整的"
                    "快照或文件；清理空间后重新运行同一命令即可继续。",
                    returncode=EXIT_ERROR) from error
            raise CommandError(str(error), returncode=EXIT_ERROR) from error
        except (SnapshotError, database.DatabaseBackupError, ObjectStoreError) as error:
            raise CommandError(str(error), returncode=EXIT_ERROR) from error
        if code:
            sys.exit(code)

    def progress(self, label: str, total: int):
        done = 0

        def report(size: int) -> None:
            nonlocal done
            done += size
            if not total:  # size unknown in advance
                self.stderr.write(f"\r{label} {done / 1e6:,.1f} MB", ending="")
                self.stderr.flush()
                return
            # The database dump may come out larger than estimated: never past 100%.
            percent = min(done * 100 // total, 100)
            bar = "#" * (percent // 4)
            self.stderr.write(f"\r{label} [{bar:<25}] {percent:3d}% {done / 1e6:,.1f} MB",
                              ending="")
            self.stderr.flush()
        return report

    def do_create(self, *, push=False, **_):
        bucket = offsite_bucket() if push else None  # a bad configuration fails first
        files = walk_files(state_dir(), exclude=excluded_paths())
        total = database.size_estimate() + sum(size_of(path) for _, path in files)
        snapshot = repository().create(engine=database.engine(), database=database.dump,
                                       files=files, progress=self.progress("备份", total))
        self.stderr.write("")
        for name in snapshot.changed:
            self.stderr.write(self.style.WARNING(
                f"注意：{name} 在读取时被修改，已备份开始时的内容（下次备份会重新读取）。"))
        for name in snapshot.removed:
            self.stderr.write(self.style.WARNING(f"注意：{name} 在备份过程中被删除，未备份。"))
        self.stdout.write(f"{snapshot.id}：{snapshot.files} 个文件，{snapshot.size / 1e6:,.1f} MB")
        if bucket is not None:
            self.push_one(bucket, snapshot)

    def do_push(self, *, id=None, **_):
        bucket, repo = offsite_bucket(), repository()
        there = set(offsite.remote_snapshots(bucket))
        snapshots = [repo.load(id)] if id else [s for s in repo.snapshots() if s.id not in there]
        for snapshot in snapshots:
            self.push_one(bucket, snapshot)
        self.stdout.write(f"异地备份：已复制 {len(snapshots)} 个快照。")

    def push_one(self, bucket: LockedBucket, snapshot) -> None:
        transfer = offsite.push(repository=repository(), bucket=bucket, snapshot=snapshot,
                                lock_days=offsite_lock_days(),
                                progress=self.progress(f"异地 {snapshot.id}", snapshot.size))
        self.stderr.write("")
        until = offsite.lock_until(snapshot, days=offsite_lock_days())
        self.stdout.write(f"{snapshot.id} → {bucket.bucket}：上传 {transfer.sent} 块"
                          f"（{transfer.bytes / 1e6:,.1f} MB），已有 {transfer.reused} 块；"
                          f"锁定至 {until:%Y-%m-%d}")

    def do_pull(self, *, id, **_):
        transfer = offsite.pull(repository=repository(), bucket=offsite_bucket(),
                                snapshot_id=id, progress=self.progress(f"取回 {id}", 0))
        self.stderr.write("")
        self.stdout.write(f"已取回 {id}：下载 {transfer.sent} 块"
                          f"（{transfer.bytes / 1e6:,.1f} MB），本地已有 {transfer.reused} 块。"
                          f"可运行 backup restore {id}。")

    def do_list(self, *, format, remote=False, **_):
        if remote:
            ids = offsite.remote_snapshots(offsite_bucket())
            if format == "json":
                self.stdout.write(json.dumps(ids))
            else:
                self.stdout.write("\n".join(ids))
            return
        snapshots = repository().snapshots()
        if format == "json":
            self.stdout.write(json.dumps([s.summary() for s in snapshots], ensure_ascii=False))
            return
        for snapshot in snapshots:
            self.stdout.write(f"{snapshot.id}  {snapshot.created_at}  {snapshot.files:>6} 个文件"
                              f"  {snapshot.size / 1e6:>10,.1f} MB")

    def do_verify(self, *, id=None, **_):
        repo = repository()
        snapshots = [repo.load(id)] if id else repo.snapshots()
        damaged = 0
        for snapshot in snapshots:
            problems = repo.verify(snapshot, progress=self.progress(f"核验 {snapshot.id}",
                                                                    snapshot.size))
            self.stderr.write("")
            if problems:
                damaged += 1
                for problem in problems:
                    self.stdout.write(self.style.ERROR(f"{snapshot.id} 损坏：{problem}"))
            else:
                self.stdout.write(f"{snapshot.id} 完好：{len(snapshot.parts)} 个部分")
        return EXIT_DAMAGED if damaged else 0

    def do_restore(self, *, id, force, **_):
        """Into a staging directory first (``.restore-<id>/`` in the state directory), then
        renamed into place and the database loaded, then static files collected. Killed at
        any point, the same command run again resumes: it recognises its own staging
        directory and the files it already moved; backups skip all of it."""
        repo = repository()
        snapshot = repo.load(id)
        if snapshot.engine != database.engine():
            raise CommandError(f"备份来自 {snapshot.engine} 数据库，当前是 {database.engine()}。",
                               returncode=EXIT_ERROR)
        root = state_dir().resolve()
        targets = {part.name: (root / part.name.removeprefix("files/")).resolve()
                   for part in snapshot.parts if part.name.startswith("files/")}
        outside = [name for name, target in targets.items() if not target.is_relative_to(root)]
        if outside:  # a tampered manifest must not write outside the state directory
            raise CommandError(f"备份清单中有状态目录以外的路径：{outside[0]}",
                               returncode=EXIT_DAMAGED)
        with self.restore_lock(repo):
            staging = staging_dir(root, snapshot.id)
            resuming = staging.is_dir()
            self.check_empty(repo, root, staging=staging if resuming else None,
                             ours=set(targets.values()), force=force)
            for debris in restore_debris(root, keep=staging, skip=[repo.root]):
                self.stderr.write(f"清除上次中断的恢复留下的 {debris.relative_to(root)}")
                shutil.rmtree(debris) if debris.is_dir() else debris.unlink()
            if resuming:
                self.stderr.write(f"继续上次中断的恢复（{staging.name}）")
            staging.mkdir(exist_ok=True)
            try:  # every part is checked while staged; nothing lands from a damaged one
                repo.stage(snapshot, staging=staging,
                           progress=self.progress("恢复", snapshot.size))
            except SnapshotError as error:
                shutil.rmtree(staging, ignore_errors=True)
                raise CommandError(f"备份已损坏，未恢复：{error}",
                                   returncode=EXIT_DAMAGED) from error
            self.stderr.write("")
            put_in_place(staging, root)
            # From here the database is this restore's to overwrite, even half-loaded by a
            # run that was killed.
            loading = staging / ".database"
            overwrite = force or loading.exists()
            loading.touch()
            database.restore(staging / "database", force=overwrite)
            # Before the staging directory goes: a restore killed while collecting is resumed
            # too, not left without static files.
            self.collect_static()
            shutil.rmtree(staging)
        self.stdout.write(f"已恢复 {snapshot.id}：{snapshot.files} 个文件和数据库。")

    @staticmethod
    @contextlib.contextmanager
    def restore_lock(repo: Repository):
        """One restore at a time: a restore removes what it takes for an interrupted one's
        debris. The kernel releases the lock of a killed process."""
        repo.root.mkdir(parents=True, exist_ok=True)
        with open(repo.root / "restore.lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CommandError("另一个恢复正在进行，请等它结束。",
                                   returncode=EXIT_ERROR) from None
            yield

    def check_empty(self, repo: Repository, root: Path, *, staging: Path | None,
                    ours: set[Path], force: bool) -> None:
        """Refuse a state directory or database holding anything but backups/, the live
        SQLite files of an empty database, and what an interrupted restore of this snapshot
        left (its staging directory, the files it already moved, the database it loaded)."""
        if force:
            return
        sqlite = database.sqlite_path()
        live = [sqlite, Path(f"{sqlite}-wal"), Path(f"{sqlite}-shm")] if sqlite else []
        present = [path for _, path in walk_files(root, exclude=[repo.root, *live])]
        database_ours = False
        if staging is not None:
            present = [path for path in present if path.resolve() not in ours]
            database_ours = (staging / ".database").exists()
        if present or not (database_ours or database.is_empty()):
            raise CommandError(
                "目标不是空的（状态目录中已有文件或数据库中已有表）：恢复只能在只有 backups/ 的"
                "新状态目录和空数据库上进行；确需覆盖请加 --force。", returncode=EXIT_ERROR)

    def collect_static(self) -> None:
        """Static files are not in a snapshot (they come with the code): without them the
        admin's login page and the search page answer 500 under the manifest storage."""
        self.stderr.write("收集静态文件（collectstatic）……")
        call_command("collectstatic", "--no-input", verbosity=0)
        self.stderr.write("静态文件已就绪。")

    def do_prune(self, *, keep_within, dry_run, **_):
        keep = max(parse_duration(keep_within), datetime.timedelta(days=MINIMUM_DAYS))
        cutoff = datetime.datetime.now(datetime.UTC) - keep
        result = repository().prune(older_than=cutoff, dry_run=dry_run)
        verb = "将删除" if dry_run else "已删除"
        for snapshot in result.snapshots:
            self.stdout.write(f"{verb} {snapshot.id}（{snapshot.created_at}）")
        self.stdout.write(f"{verb} {len(result.snapshots)} 个快照；保留 {keep.days} 天内的快照"
                          f"（至少 {MINIMUM_DAYS} 天）。")
        self.stdout.write(f"{verb} {result.chunks} 个不再被任何快照引用的数据块"
                          f"（{result.chunk_bytes / 1e6:,.1f} MB），"
                          f"{result.debris} 个中断运行留下的临时文件"
                          f"（{result.debris_bytes / 1e6:,.1f} MB）。")
