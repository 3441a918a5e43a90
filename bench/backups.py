"""Backup figures, side by side with restic, on the same generated data.

    .venv/bin/python bench/backups.py [--size-mb 1024] [--keep] [--order restic-first]

Generates about --size-mb of deterministic mixed media (seeded RNG: many small incompressible
image-like files, some partially compressible PDF/Office-like documents, a few incompressible
videos, compressible text/HTML) under a fresh CMS_DATA_DIR in a temporary directory (media/
and, content-addressed like the real store, originals/), runs ``manage.py migrate`` there,
then measures, for ``manage.py backup`` (a subprocess: the real command, database dump
included) and for restic (``apt-get install restic``; a repository in the same temporary
directory, same file system):

1. the first backup's throughput;
2. an unchanged second run: its time and the bytes it added to the repository;
3. restore: ours with ``backup restore ID`` into a fresh CMS_DATA_DIR holding only a copy of
   backups/ and an empty database (as tests/backups/test_backup_command.py's drill does),
   restic with ``restic restore latest --target DIR``;
4. the repository's size after the first backup.

Page caches cannot be dropped here: the data is generated first (so it is in the page cache
for both tools), and each step runs the two tools one after the other in the order --order
names. After each restore every file's SHA-256 is compared with the source's (and our
restored SQLite database with the source's, row by row); any difference fails the run.
Generation, migrate and copying backups/ into the restore target are not timed.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000
PASSWORD = "bench-backups-not-secret"

# Category: share of the total, file size range (bytes), what the bytes look like.
MIX = [
    ("images", 0.30, (50_000, 500_000), "random"),
    ("documents", 0.25, (1_000_000, 20_000_000), "mixed"),
    ("videos", 0.35, (50_000_000, 150_000_000), "random"),
    ("pages", 0.10, (2_000, 200_000), "text"),
]
ORIGINALS_SHARE = 0.25  # of the images and documents: stored in originals/ instead of media/
WORDS = [
    "学校", "教育局", "通知", "公告", "教学", "教研", "课程", "学生", "家长", "老师", "安全",
    "活动", "招生", "考试", "政策", "文件", "the", "school", "notice", "students", "parents",
    "teachers", "semester", "exam", "schedule", "policy", "district", "lesson", "science",
    "library", "sports", "canteen", "safety", "enrolment", "meeting", "report",
]


# --- Data --------------------------------------------------------------------------------------

def text_pool(rng: random.Random) -> list[bytes]:
    paragraphs = []
    for _ in range(400):
        words = rng.choices(WORDS, k=rng.randint(20, 120))
        tag = rng.choice(("p", "li", "td", "h2"))
        paragraphs.append(f'<{tag} class="c{rng.randint(1, 40)}">{" ".join(words)}</{tag}>\n'
                          .encode())
    return paragraphs


def content(rng: random.Random, kind: str, size: int, pool: list[bytes]) -> bytes:
    if kind == "random":  # already compressed (JPEG, PNG, H.264)
        return rng.randbytes(size)
    if kind == "text":
        out = bytearray(b"<!DOCTYPE html>\n<html><body>\n")
        while len(out) < size:
            out += rng.choice(pool)
        return bytes(out[:size])
    # PDF/Office: compressed streams (embedded images, fonts) between plain structure/text.
    out = bytearray(b"%PDF-1.7\n")
    while len(out) < size:
        if rng.random() < 0.5:
            out += rng.randbytes(rng.randint(20_000, 400_000))
        else:
            block = bytearray()
            while len(block) < rng.randint(20_000, 200_000):
                block += rng.choice(pool)
            out += b"stream\n" + block + b"endstream\n"
    return bytes(out[:size])


def generate(state: Path, size_mb: int, seed: int) -> tuple[int, int]:
    """Files under state/media and state/originals; (files, bytes)."""
    rng = random.Random(seed)
    pool = text_pool(rng)
    total_target = size_mb * MB
    count = written = 0
    for category, share, (low, high), kind in MIX:
        budget = int(total_target * share)
        # Small runs: keep at least a couple of files per category, within the budget.
        high = min(high, max(budget // 2, 1))
        low = min(low, high)
        index = 0
        while budget > 0:
            size = min(rng.randint(low, high), budget)
            data = content(rng, kind, size, pool)
            extension = {"images": ".jpg", "documents": rng.choice((".pdf", ".docx", ".xlsx")),
                         "videos": ".mp4", "pages": ".html"}[category]
            if category in ("images", "documents") and rng.random() < ORIGINALS_SHARE:
                digest = hashlib.sha256(data).hexdigest()
                path = state / "originals" / digest[:2] / digest[2:4] / digest
            else:
                school = f"school{rng.randint(1, 12):02d}"
                name = f"{category[:-1]}{index:05d}{extension}"
                path = state / "media" / category / school / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            budget -= size
            written += size
            count += 1
            index += 1
    return count, written


# --- Helpers -----------------------------------------------------------------------------------

def tree_size(root: Path) -> tuple[int, int]:
    """(bytes, files) of every regular file under root."""
    total = files = 0
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
                files += 1
    return total, files


def digests(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> SHA-256 of every regular file under root, but top-level names in skip
    and SQLite's live files."""
    found = {}
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory)
        if here == root:
            subdirectories[:] = [d for d in subdirectories if d not in skip]
        for name in names:
            path = here / name
            relative = path.relative_to(root).as_posix()
            if (here == root and (name in skip or name.startswith("db.sqlite3"))) \
                    or not path.is_file():
                continue
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            found[relative] = digest.hexdigest()
    return found


def compare(tool: str, source: dict[str, str], restored: dict[str, str]) -> None:
    missing = sorted(set(source) - set(restored))
    differ = sorted(name for name in set(source) & set(restored)
                    if source[name] != restored[name])
    if missing or differ:
        raise SystemExit(f"FAIL: {tool} restore is wrong: {len(missing)} missing "
                         f"{missing[:5]}, {len(differ)} differ {differ[:5]}")
    print(f"  {tool}: all {len(source)} restored files have the source's SHA-256", flush=True)


def sqlite_rows(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


class Runner:
    def __init__(self, work: Path):
        self.work = work
        self.base_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
                         "RESTIC_PASSWORD": PASSWORD}
        self.base_env.pop("DATABASE_URL", None)
        self.base_env.pop("RESTIC_REPOSITORY", None)
        self.restic_repo = work / "restic-repo"
        self.restic_cache = work / "restic-cache"

    def run(self, args: list[str], *, env: dict | None = None, cwd: Path = ROOT) -> tuple[
            float, str]:
        start = time.perf_counter()
        result = subprocess.run(args, cwd=cwd, env=env or self.base_env, capture_output=True,
                                text=True, check=False)
        elapsed = time.perf_counter() - start
        if result.returncode:
            raise SystemExit(f"FAIL: {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return elapsed, result.stdout

    def manage(self, data_dir: Path, *args: str) -> tuple[float, str]:
        return self.run([sys.executable, "manage.py", *args],
                        env={**self.base_env, "CMS_DATA_DIR": str(data_dir)})

    def restic(self, *args: str, cwd: Path = ROOT) -> tuple[float, str]:
        return self.run(["restic", "-r", str(self.restic_repo), "--cache-dir",
                         str(self.restic_cache), *args], cwd=cwd)


def human(seconds: float) -> str:
    return f"{seconds:.2f} s"


# --- The benchmark -----------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description="备份性能：与 restic 在同一份生成数据上对比。")
    parser.add_argument("--size-mb", type=int, default=1024, help="生成的数据量（MB）")
    parser.add_argument("--seed", type=int, default=20240901)
    parser.add_argument("--order", choices=("restic-first", "ours-first"),
                        default="restic-first", help="每一步先运行哪个工具")
    parser.add_argument("--keep", action="store_true", help="保留临时目录")
    parser.add_argument("--tmp", default="/tmp", help="临时目录的位置")
    args = parser.parse_args()
    if shutil.which("restic") is None:
        raise SystemExit("restic not found: apt-get install -y restic")

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-backups-", dir=args.tmp))
    try:
        rows = bench(work, args)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, args)
    print(f"\nbench wall time (generation and checks included): "
          f"{time.perf_counter() - started:.0f} s")


def bench(work: Path, args) -> list[tuple]:
    runner = Runner(work)
    state = work / "state"
    state.mkdir()
    print(f"work directory {work}", flush=True)
    version = runner.run(["restic", "version"])[1].strip()

    t = time.perf_counter()
    files, data_bytes = generate(state, args.size_mb, args.seed)
    print(f"generated {files} files, {data_bytes / MB:,.1f} MB in "
          f"{time.perf_counter() - t:.1f} s (seed {args.seed})", flush=True)
    runner.manage(state, "migrate", "--no-input", "-v0")
    startup, _ = runner.manage(state, "backup", "list")  # Django start-up, nothing to read
    database_bytes = (state / "db.sqlite3").stat().st_size
    source = digests(state, skip=("backups", "static"))
    # What restic backs up: the same tree, relative to the state directory (the live SQLite
    # file stands for our dump; it is not written to while the bench runs).
    restic_paths = sorted(p.name for p in state.iterdir() if p.name not in ("backups", "static"))
    runner.restic("init")
    restic_startup, _ = runner.restic("snapshots")  # restic start-up, empty repository
    ours_repo = state / "backups"
    order = ["restic", "ours"] if args.order == "restic-first" else ["ours", "restic"]

    def backup(tool: str) -> tuple[float, str]:
        if tool == "ours":
            return runner.manage(state, "backup", "create")
        return runner.restic("backup", "--json", *restic_paths, cwd=state)

    def repo_size(tool: str) -> tuple[int, int]:
        return tree_size(ours_repo if tool == "ours" else runner.restic_repo)

    print(f"step order in every step: {' then '.join(order)}", flush=True)
    first, first_size, second, added = {}, {}, {}, {}
    for tool in order:
        first[tool], _ = backup(tool)
        first_size[tool] = repo_size(tool)
        print(f"  first backup   {tool:6} {human(first[tool])}", flush=True)
    for tool in order:
        second[tool], _ = backup(tool)
        added[tool] = repo_size(tool)[0] - first_size[tool][0]
        print(f"  unchanged run  {tool:6} {human(second[tool])}, +{added[tool]:,} bytes",
              flush=True)

    # Restore the first snapshot (the second one holds the same files).
    snapshot_id = json.loads(runner.manage(state, "backup", "list", "--format", "json")[1])[0]["id"]
    restic_first = json.loads(runner.restic("snapshots", "--json")[1])[0]["short_id"]
    restore = {}
    for tool in order:
        target = work / f"restore-{tool}"
        target.mkdir()
        if tool == "ours":
            shutil.copytree(ours_repo, target / "backups")  # not timed, as on a new machine
            restore[tool], _ = runner.manage(target, "backup", "restore", snapshot_id)
        else:
            restore[tool], _ = runner.restic("restore", restic_first, "--target", str(target))
        print(f"  restore        {tool:6} {human(restore[tool])}", flush=True)

    print("checking restored files", flush=True)
    for tool in order:
        target = work / f"restore-{tool}"
        compare(tool, source, digests(target, skip=("backups", "static")))
        restored_db = target / "db.sqlite3"
        if sqlite_rows(restored_db) != sqlite_rows(state / "db.sqlite3"):
            raise SystemExit(f"FAIL: {tool} restored a database that differs from the source")
        print(f"  {tool}: database rows identical", flush=True)
        shutil.rmtree(target)

    total = data_bytes + database_bytes

    def speed(seconds: float) -> float:
        return total / MB / seconds

    return [
        ("data (files + database)", f"{files} files, {total / MB:,.1f} MB",
         f"{files} files, {total / MB:,.1f} MB", None, ""),
        ("start-up, no work (list)", human(startup), human(restic_startup),
         restic_startup / startup, "speed"),
        ("first backup time", human(first["ours"]), human(first["restic"]),
         first["restic"] / first["ours"], "speed"),
        ("first backup throughput", f"{speed(first['ours']):,.1f} MB/s",
         f"{speed(first['restic']):,.1f} MB/s", speed(first["ours"]) / speed(first["restic"]),
         "speed"),
        ("  same, start-up subtracted", f"{total / MB / (first['ours'] - startup):,.1f} MB/s",
         f"{total / MB / (first['restic'] - restic_startup):,.1f} MB/s",
         (first["restic"] - restic_startup) / (first["ours"] - startup), "speed"),
        ("unchanged re-run time", human(second["ours"]), human(second["restic"]),
         second["restic"] / second["ours"], "speed"),
        ("bytes added by re-run", f"{added['ours']:,}", f"{added['restic']:,}",
         added["ours"] / max(added["restic"], 1), "size"),
        ("restore time", human(restore["ours"]), human(restore["restic"]),
         restore["restic"] / restore["ours"], "speed"),
        ("restore throughput", f"{speed(restore['ours']):,.1f} MB/s",
         f"{speed(restore['restic']):,.1f} MB/s",
         speed(restore["ours"]) / speed(restore["restic"]), "speed"),
        ("repository size after 1st", f"{first_size['ours'][0] / MB:,.1f} MB",
         f"{first_size['restic'][0] / MB:,.1f} MB", first_size["ours"][0] / first_size["restic"][0],
         "size"),
        ("repository files after 1st", f"{first_size['ours'][1]:,}",
         f"{first_size['restic'][1]:,}", first_size["ours"][1] / first_size["restic"][1], "size"),
        ("_notes", version, None, order, None),
    ]


def print_table(rows: list[tuple], args) -> None:
    notes = rows[-1]
    rows = rows[:-1]
    print(f"\nBackups vs {notes[1]}, --size-mb {args.size_mb}, order: "
          f"{' then '.join(notes[3])} in every step")
    header = ("measure", "ours", "restic", "ratio")
    body = []
    for measure, ours, restic, ratio, kind in rows:
        if ratio is None:
            text = ""
        elif kind == "speed":
            text = f"{ratio:.2f}x speed (>1: ours faster)"
        else:
            text = f"{ratio:.2f}x size (<1: ours smaller)"
        body.append((measure, ours, restic, text))
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(4)]
    line = "-+-".join("-" * w for w in widths)
    print(" | ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in body:
        print(" | ".join(str(c).ljust(w) if i in (0, 3) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    print("\nTimes are wall clock of the whole process: ours includes Django start-up "
          "(see the start-up row) and, for create, the SQLite dump; ours "
          "restore includes its full verification pass. Data was generated just before, so "
          "both tools read warm page caches; restic backs up the live SQLite file, ours a dump.")


if __name__ == "__main__":
    main()
