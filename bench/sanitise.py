"""Sanitising figures: seconds for rich text of 1, 3 and 5 MB, by kind of markup.

    .venv/bin/python bench/sanitise.py [--sizes 1,3,5] [--timeout 120] [--root PATH]

No database: ``sanitise_rich_text`` (review/screening/markup/sanitise.py) is plain code.
``--root`` times another checkout's sanitiser (the one before a change, say); each case runs
in a process of its own and is stopped after ``--timeout`` seconds (printed as "> N s").

Kinds of rich text, each repeated to the size (UTF-8 bytes):

- article: the editor's paragraphs with bold words and links (what Wagtail writes);
- report: a real large article: those paragraphs with a timetable every six (tag-dense);
- pasted: a web page pasted as it is (divs, spans with styles, tables, a comment);
- entities: one long paragraph with an entity every few characters;
- unclosed: ``<b>`` after ``<b>`` never closed;
- misnested: ``<i><b data-n=…></i>`` (formatting closed in the wrong order);
- deep: ``<div>`` nested 10,000 levels, then paragraphs.

Also the peak memory of the process (ru_maxrss) after the case.
"""

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = ('<p data-block-key="k{i}">教育局通知：<b>重要</b>内容，'
           '<a href="https://www.example.cn/x">链接</a>。' + "学校开展读书活动" * 12 + "</p>")
PASTED = ('<div class="c{i}"><span style="color:#333;font-size:14px">校园新闻{i}</span>'
          '<table><tr><td>第一节</td><td>语文</td></tr></table><!-- 注释 --><br></div>')


TIMETABLE = ("<table><tbody>" + "".join(
    "<tr>" + f"<td>第{row}节 语文 王老师</td>" * 5 + "</tr>" for row in range(8))
    + "</tbody></table>")


def article(size: int) -> str:
    return _repeat(ARTICLE, size)


def report(size: int) -> str:
    unit = "".join(ARTICLE.replace("{i}", f"{{i}}-{n}") for n in range(6)) + TIMETABLE
    return _repeat(unit, size)


def pasted(size: int) -> str:
    return _repeat(PASTED, size)


def entities(size: int) -> str:
    return '<p data-block-key="a">' + "学 &amp; 校 " * (size // 14) + "</p>"


def unclosed(size: int) -> str:
    return "<b>学" * (size // 6)


def misnested(size: int) -> str:
    return _repeat("<i><b data-n={i}></i>学", size)


def deep(size: int) -> str:
    return "<div>" * 10_000 + article(size - 110_000) + "</div>" * 10_000


def _repeat(template: str, size: int) -> str:
    parts, total, i = [], 0, 0
    while total < size:
        part = template.format(i=i)
        parts.append(part)
        total += len(part.encode())
        i += 1
    return "".join(parts)


KINDS = {"article": article, "report": report, "pasted": pasted, "entities": entities,
         "unclosed": unclosed, "misnested": misnested, "deep": deep}


def _run(root: str, kind: str, size: int, out) -> None:
    sys.path.insert(0, root)
    sys.setrecursionlimit(10_000)  # what a worker thread may meet; the default is 1000
    from review.screening.markup.sanitise import sanitise_rich_text

    html = KINDS[kind](size)
    started = time.perf_counter()
    try:
        sanitise_rich_text(html)
        result = f"{time.perf_counter() - started:7.2f} s"
    except RecursionError:
        result = "RecursionError"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    out.send(f"{result}  ({peak} MB peak)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,3,5", help="megabytes, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--root", default=str(ROOT), help="checkout whose sanitiser to time")
    args = parser.parse_args()
    print(f"sanitise_rich_text of {args.root}")
    for kind in args.kinds.split(","):
        for megabytes in (float(s) for s in args.sizes.split(",")):
            receive, send = multiprocessing.Pipe(duplex=False)
            process = multiprocessing.Process(
                target=_run, args=(args.root, kind, int(megabytes * 1_000_000), send))
            process.start()
            process.join(args.timeout)
            if process.is_alive():
                process.kill()
                process.join()
                result = f"> {args.timeout:.0f} s (stopped)"
            else:
                result = receive.recv() if receive.poll() else "failed"
            print(f"{kind:10} {megabytes:4g} MB  {result}", flush=True)


if __name__ == "__main__":
    main()
