"""Screening figures: throughput, a 50 KB page, lexicon rebuild, precision and recall.

    .venv/bin/python bench/screening.py [--terms 20000] [--megabytes 4]

No database: the screener is plain code (review.screener). The lexicon is the starter
lexicon plus generated terms up to --terms (random two- to four-character Han words from the
whole unified block, and some Latin ones), with the starter allow list.

- School text: the clean school texts of bench/screening_labelled.jsonl and the demo site's
  articles, repeated to --megabytes.
- Adversarial text: lexicon words disguised every few dozen characters (noise between
  characters, full-width and styled letters, traditional characters, zero-width characters,
  repeats), valid and decoy ID, phone and card numbers, circled numbers that expand.

Throughput counts UTF-8 bytes of input through the whole pipeline: folding, matching,
personal-information detection, spam runs, protected names, wording rules and typos, and
mapping offsets back (review.screener.screen_text); every detector is on (the starter
names, wording rules and typos, plus the invented local names of the expression set).
Precision and recall compare findings with the labelled set's expected (kind, match) pairs:
the screening set (bench/screening_labelled.jsonl) for the kinds it is labelled for, and the
expression set (bench/expression_labelled.jsonl, written by bench/make_expression_set.py)
for ``expression`` and ``typo``. Spam runs the screening set's texts hold are counted apart
(that set does not label them).
"""

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review.screening import expression_io  # noqa: E402
from review.screening.expression import (  # noqa: E402
    CompiledExpressions,
    ProtectedName,
    TypoPair,
    WordingRule,
)
from review.screening.folding import folding_table  # noqa: E402
from review.screening.lexicon_io import decode, parse  # noqa: E402
from review.screening.matching import CompiledLexicon, Term  # noqa: E402
from review.screening.screener import screen_text  # noqa: E402

LABELLED = ROOT / "bench" / "screening_labelled.jsonl"
EXPRESSION_SET = ROOT / "bench" / "expression_labelled.jsonl"
LABELLED_KINDS = ("sensitive_word", "id_number", "phone_number", "bank_card")
STARTER = ROOT / "review" / "lexicon" / "starter.csv"
ALLOW = ROOT / "review" / "lexicon" / "allow.csv"
NOISE = [" ", ".", "*", "\u200b", "\u200d", "·", "-", "_", "／", "\ufeff"]
STYLED_A = {"a": "𝐚", "b": "𝐛", "c": "𝐜", "e": "𝐞", "o": "ⓞ", "s": "𝐬", "t": "𝐭"}


def starter_terms() -> tuple[list[Term], list[str]]:
    rows = parse(decode(STARTER.read_bytes()))
    allowed = [row.word for row in parse(decode(ALLOW.read_bytes()), allow_list=True)]
    return [Term(r.word, r.category, r.severity) for r in rows], allowed


def starter_expressions() -> CompiledExpressions:
    from bench.make_expression_set import BENCH_NAMES

    lists = ROOT / "review" / "lexicon"

    def rows(name, spec):
        return expression_io.parse(decode((lists / name).read_bytes()), spec)

    names = [ProtectedName(name=r["name"], title=r["title"])
             for r in rows("names.csv", expression_io.NAMES)]
    names += [ProtectedName(name=name, title=title) for name, title in BENCH_NAMES]
    rules = [WordingRule(wrong=r["wrong"], right=r["right"], severity=r["severity"],
                         note=r["note"]) for r in rows("wording.csv", expression_io.WORDING)]
    typos = [TypoPair(wrong=r["wrong"], right=r["right"])
             for r in rows("typos.csv", expression_io.TYPOS)]
    return CompiledExpressions(names=names, rules=rules, typos=typos)


def generated_terms(count: int, rng: random.Random) -> list[Term]:
    terms = []
    for index in range(count):
        if index % 10 == 0:
            word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                           for _ in range(rng.randint(5, 9)))
        else:
            word = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 4)))
        terms.append(Term(word, "generated", rng.choice(("block", "review", "warn"))))
    return terms


def labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def school_text(megabytes: float) -> str:
    from cms.demo import content

    pieces = [item["text"] for item in labelled() if not item["expected"]]
    pieces += [value for value in vars(content).values() if isinstance(value, str)]
    for value in vars(content).values():
        if isinstance(value, list | tuple):
            pieces += [str(item) for item in value]
    unit = "\n".join(pieces)
    repeat = int(megabytes * 1e6 // len(unit.encode())) + 1
    return "\n".join([unit] * repeat)


def disguise(word: str, rng: random.Random) -> str:
    how = rng.randrange(6)
    if how == 0:
        return rng.choice(NOISE).join(word)
    if how == 1:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    if how == 2:
        return "".join(STYLED_A.get(c, c) for c in word)
    if how == 3:
        return "".join(c * rng.randint(1, 3) for c in word)
    if how == 4:
        return "\u200b".join(word).upper()
    return word


def adversarial_text(megabytes: float, terms: list[Term], rng: random.Random) -> str:
    from review.screening.pii import ID_CHECK, ID_WEIGHTS

    def an_id() -> str:
        body = f"{rng.choice((11, 32, 44, 51))}0105{rng.randint(2005, 2015)}0{rng.randint(1, 9)}" \
               f"{rng.randint(10, 28)}{rng.randint(100, 999)}"
        return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]

    words = [t.word for t in terms if t.category != "generated"]
    filler = "同学们在老师的带领下认真学习，课堂气氛活跃。"
    parts, size = [], 0
    while size < megabytes * 1e6:
        piece = rng.choice((
            lambda: disguise(rng.choice(words), rng),
            lambda: f"身份证号：{an_id()}",
            lambda: f"电话 1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
            lambda: f"订单号{rng.randint(10**19, 10**20)}",
            lambda: "⑩⑪⑫ⅫⅪ㈠㈡",
        ))()
        chunk = filler[:rng.randint(5, len(filler))] + piece
        parts.append(chunk)
        size += len(chunk.encode())
    return "".join(parts)


def throughput(text: str, lexicon: CompiledLexicon, *,
               rounds: int = 5) -> tuple[float, float, int]:
    """The median of ``rounds`` whole passes (the first pays for page faults), by the clock
    and by the process's CPU time (what a busy machine's other processes do not inflate)."""
    times, cpu_times = [], []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        findings = screen_text(text, lexicon=lexicon)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    size = len(text.encode()) / 1e6
    return size / statistics.median(times), size / statistics.median(cpu_times), len(findings)


def page_ms(text: str, lexicon: CompiledLexicon, *, size: int = 50_000,
            rounds: int = 200) -> tuple[float, float]:
    """Median milliseconds for the first ``size`` bytes, by the clock and by CPU time."""
    encoded = text.encode()[:size].decode(errors="ignore")
    times, cpu_times = [], []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        screen_text(encoded, lexicon=lexicon)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    return statistics.median(times) * 1000, statistics.median(cpu_times) * 1000


def precision_recall(lexicon: CompiledLexicon, items: list[dict],
                     kinds: tuple[str, ...]) -> dict[str, Counter]:
    """Per kind of ``kinds``: true positives, false positives, false negatives."""
    counts: dict[str, Counter] = {}
    for item in items:
        expected = Counter((e["kind"], e["match"]) for e in item["expected"])
        found = Counter((f.kind, f.match) for f in screen_text(item["text"], lexicon=lexicon)
                        if f.kind in kinds)
        for kind in {k for k, _ in expected} | {k for k, _ in found}:
            tally = counts.setdefault(kind, Counter())
            exp = Counter({key: n for key, n in expected.items() if key[0] == kind})
            got = Counter({key: n for key, n in found.items() if key[0] == kind})
            tally["tp"] += sum((exp & got).values())
            tally["fp"] += sum((got - exp).values())
            tally["fn"] += sum((exp - got).values())
            for key in got - exp:
                tally.setdefault("examples_fp", []).append(key[1])
            for key in exp - got:
                tally.setdefault("examples_fn", []).append(key[1])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description="内容检查性能：吞吐量、50 KB 页面、词库重建、查准率与查全率。")
    parser.add_argument("--terms", type=int, default=20_000)
    parser.add_argument("--megabytes", type=float, default=4)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()  # the demo content module imports Django
    rng = random.Random(20261121)

    start = time.perf_counter()
    folding_table()
    print(f"folding table (cold, once per process): {time.perf_counter() - start:.2f} s")
    starter, allowed = starter_terms()
    terms = starter + generated_terms(max(0, args.terms - len(starter)), rng)
    start = time.perf_counter()
    expressions = starter_expressions()
    print(f"names, wording rules and typos: {len(expressions)} patterns built in "
          f"{(time.perf_counter() - start) * 1000:.0f} ms (cold: pypinyin's tables included)")
    start = time.perf_counter()
    lexicon = CompiledLexicon(terms, allowed, expressions=starter_expressions())
    rebuild = time.perf_counter() - start
    print(f"lexicon rebuild: {len(lexicon)} terms, {len(allowed)} allow-list phrases, "
          f"{len(expressions)} expression patterns in {rebuild * 1000:.0f} ms")

    school = school_text(args.megabytes)
    adversarial = adversarial_text(args.megabytes, terms, rng)
    print("| text | size | throughput | by CPU time | findings | 50 KB page (median) "
          "| by CPU time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, text in (("school", school), ("adversarial", adversarial)):
        rate, cpu_rate, found = throughput(text, lexicon)
        page, page_cpu = page_ms(text, lexicon)
        print(f"| {name} | {len(text.encode()) / 1e6:.1f} MB | {rate:.1f} MB/s | "
              f"{cpu_rate:.1f} MB/s | {found} | {page:.2f} ms | {page_cpu:.2f} ms |")

    print("\nlabelled set (starter lexicon and allow list only):")
    small = CompiledLexicon(starter, allowed)
    report(precision_recall(small, labelled(), LABELLED_KINDS), show_misses=args.show_misses)
    spam = Counter(item["group"] for item in labelled() for f in screen_text(
        item["text"], lexicon=small) if f.kind == "spam")
    print(f"spam runs found in its texts (not labelled there), by group: {dict(spam)}")

    items = [json.loads(line) for line in EXPRESSION_SET.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    # The screening set's clean and decoy texts are correct text too (no expression errors
    # or typos were written into them).
    items += [{**item, "group": "screening-set clean", "expected": []} for item in labelled()
              if item["group"] in ("clean", "decoy")]
    groups = Counter(item["group"] for item in items)
    print(f"\nexpression set ({len(items)} texts: {dict(groups)}), starter lists:")
    with_expressions = CompiledLexicon(starter, allowed, expressions=expressions)
    report(precision_recall(with_expressions, items, ("expression", "typo")),
           show_misses=args.show_misses)


def report(counts: dict[str, Counter], *, show_misses: bool) -> None:
    print("| kind | TP | FP | FN | precision | recall |")
    print("| --- | --- | --- | --- | --- | --- |")
    totals = Counter()
    for kind, tally in sorted(counts.items()):
        tp, fp, fn = tally["tp"], tally["fp"], tally["fn"]
        totals.update({"tp": tp, "fp": fp, "fn": fn})
        print(f"| {kind} | {tp} | {fp} | {fn} | {tp / max(tp + fp, 1):.3f} | "
              f"{tp / max(tp + fn, 1):.3f} |")
        if show_misses:
            print(f"    FP: {tally.get('examples_fp', [])[:20]}")
            print(f"    FN: {tally.get('examples_fn', [])[:20]}")
    tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
    print(f"| all | {tp} | {fp} | {fn} | {tp / max(tp + fp, 1):.3f} | "
          f"{tp / max(tp + fn, 1):.3f} |")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    main()
