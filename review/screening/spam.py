"""Injected spam, caught whatever the lexicon holds: keyword-stuffed runs.

Hacked school sites get a line of SEO keywords pasted in — many short phrases separated by
commas or spaces, dense in porn, gambling or illegal-trade vocabulary
(亚洲国产日韩欧美在线a乱码,国产精品路线1路线2路线,亚洲视频一区,…). A run is such a line when
it has at least ``MIN_SEGMENTS`` short segments (``MAX_SEGMENT`` characters on average), at
least half of them holding a word of the built-in vocabulary, and at least one of the
words is a strong one (words like 国产 or 在线 alone are ordinary). Runs are looked for only
where two strong words (or lexicon words) stand close together; the screener finds strong
words in its expression pass over the text as it is (review.screening.expression), and the
lexicon's words however disguised. Around them the whole vocabulary is matched on folded
text (review.screening.folding). Plain code.
"""

import functools
import re
from dataclasses import dataclass

import ahocorasick_rs
import numpy as np

from review.screening.folding import Folded


def _words(block: str) -> list[str]:
    return block.split()


# Strong words: hardly ever in school news. Weak words: spam's filler, ordinary alone.
STRONG = _words("""
乱码 无码 有码 日韩 欧美日韩 一区二区 二区三区 午夜 福利视频 福利姬 自拍 偷拍 偷窥 av女优
成人网站 成年网站 成人视频 成人影院 黄色网站 黄色视频 黄片 毛片 三级片 色情 激情视频 激情在线
情色 伦理片 伦理电影 国产精品 精品国产 亚洲精品 人妻 巨乳 美女裸体 约炮 裸聊 一夜情 援交 AV
女优 番号 骚 屄 淫 博彩 菠菜 百家乐 娱乐城 真人娱乐 赌场 赌博 老虎机 彩票网 时时彩 六合彩 北京赛车
幸运飞艇 开元棋牌 棋牌游戏 澳门新葡京 威尼斯人 金沙娱乐 太阳城 皇冠体育 网投 葡京 下注 赔率 首存
彩金 开户送 代开发票 发票代开 办证 假证 刻章 仿真枪 气枪 猎枪 枪支 弹药 手枪出售 迷药 迷幻药 冰毒
麻古 k粉 摇头丸 听话水 催情 春药 窃听器 针孔摄像 代孕 卖肾 私服 外挂 刷单 黑客接单 裸贷 套现
""")
WEAK = _words("""
亚洲 国产 精品 欧美 在线 视频 观看 在线观看 免费 免费看 高清 网站 影院 电影 一区 二区 三区 路线
线路 狠狠 激情 美女 性感 情侣 成人 成年 www com cn 直播 入口 地址 最新 官网 官方 平台 导航 下载 app
""")
MIN_SEGMENTS = 4
MAX_SEGMENT = 16
SEPARATOR = re.compile(r"[,，|｜/、;；\s]+")
# A run ends at a sentence's end or a line break.
RUN_END = re.compile(r"[。！？!?\n\r\u2029]")
CLUSTER_GAP = 40
WINDOW = 300  # folded characters either side of a strong word where the rest are looked for
WORDY = re.compile(r"[^\W_]")  # a segment of punctuation alone is not a phrase


@dataclass(frozen=True)
class SpamRun:
    start: int
    end: int
    words: tuple[str, ...]


@functools.cache
def _automata() -> tuple[ahocorasick_rs.AhoCorasick, ahocorasick_rs.AhoCorasick, list[str],
                         list[bool]]:
    """The strong words alone (a first pass that school text hardly ever hits), and all."""
    from review.screening.folding import fold_term

    patterns: dict[str, bool] = {}
    for word in WEAK:
        patterns.setdefault(fold_term(word), False)
    for word in STRONG:
        patterns[fold_term(word)] = True
    words = [w for w in patterns if w]
    strong = [w for w in words if patterns[w]]
    # A DFA: twice as fast as the default NFA here, and these automata are small.
    dfa = ahocorasick_rs.Implementation.DFA
    return (ahocorasick_rs.AhoCorasick(strong, implementation=dfa),
            ahocorasick_rs.AhoCorasick(words, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST,
                                       implementation=dfa),
            words, [patterns[w] for w in words])


def find_spam_runs(text: str, folded: Folded, *,
                   triggers: list[int] | None = None) -> list[SpamRun]:
    """Keyword-stuffed runs of ``text`` (``folded`` is its folding). ``triggers`` are where
    strong words (or lexicon words) stand in ``text``, when another pass found them already
    (the screener's expression pass looks for ``STRONG`` in the text); without them, strong
    words are looked for here, in the folded text."""
    strong_only, automaton, words, strong = _automata()
    if triggers is None:
        starts = [start for _, start, _ in strong_only.find_matches_as_indexes(folded.text)]
    else:
        starts = np.searchsorted(folded.first, sorted(triggers)).tolist()
    # The whole vocabulary is looked for only near strong words: school text holds weak
    # ones (在线, 视频, 免费) all the time.
    windows: list[list[int]] = []
    for number, start in enumerate(starts):
        # A line of spam holds several strong words; a lone one (反赌博) is the lexicon's.
        if not any(other != start and abs(other - start) <= CLUSTER_GAP * 3
                   for other in starts[max(0, number - 1):number + 2]):
            continue
        low, high = max(0, start - WINDOW), start + WINDOW
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    hits = [(index, low + start, low + end) for low, high in windows
            for index, start, end in automaton.find_matches_as_indexes(folded.text[low:high])]
    if len(hits) < MIN_SEGMENTS // 2 or not any(strong[index] for index, _, _ in hits):
        return []
    spans = [(int(folded.first[start]), int(folded.last[end - 1]) + 1, index)
             for index, start, end in hits]
    runs: list[SpamRun] = []
    cluster: list[tuple[int, int, int]] = []
    for span in [*spans, None]:
        if span is not None and (not cluster or span[0] - cluster[-1][1] <= CLUSTER_GAP):
            cluster.append(span)
            continue
        if cluster and any(strong[index] for _, _, index in cluster):
            run = _stuffed_run(text, cluster, words)
            if run is not None and (not runs or run.start >= runs[-1].end):
                runs.append(run)
        cluster = [span] if span is not None else []
    return runs


def _stuffed_run(text: str, cluster: list[tuple[int, int, int]],
                 words: list[str]) -> SpamRun | None:
    """The line the cluster of vocabulary words lies in, if it is keyword-stuffed."""
    first, last = cluster[0][0], cluster[-1][1]
    start = max((m.end() for m in RUN_END.finditer(text, max(0, first - 200), first)),
                default=max(0, first - 200))
    end_match = RUN_END.search(text, last, last + 200)
    end = end_match.start() if end_match else min(len(text), last + 200)
    line = text[start:end]
    segments = [(m.start() + start, m.end() + start)
                for m in re.finditer(r"[^,，|｜/、;；\s]+", line) if WORDY.search(m.group())]
    if len(segments) < MIN_SEGMENTS:
        return None
    if sum(b - a for a, b in segments) / len(segments) > MAX_SEGMENT:
        return None
    with_words = sum(1 for a, b in segments if any(a < hit_end and hit_start < b
                                                   for hit_start, hit_end, _ in cluster))
    if with_words * 2 < len(segments):
        return None
    return SpamRun(segments[0][0], segments[-1][1],
                   tuple(dict.fromkeys(words[index] for _, _, index in cluster)))
