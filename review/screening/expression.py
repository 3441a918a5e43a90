"""Serious expression errors and typos (错敏): protected names, normative wording, typos.

- *Protected names* (leaders' names and titles, official names of the state, its
  institutions, the bureau and the schools): a name with one character replaced by a
  homophone or a similar-looking character (杜家毫 written 杜家豪) is an ``expression``
  finding whose suggestion is the name; a person's name right beside another person's title
  is one too. The exact name and ordinary words are not: variants that are words of their
  own, and variants changing a name's first or last character into one of the most common
  characters of prose (教育部 → 教育不…), are never looked for. Two-character names are
  looked for only beside their title (a two-character variant is too often someone else).
- *Normative wording rules* (一带一路战略 → 一带一路倡议): wrong → right, ``expression``.
  Taiwan, Hong Kong or Macau listed beside countries (日本、台湾) is one too, built in.
- *Typos* from a confusion list (按装 → 安装): ``typo``, warn. A typo is not reported where
  its first or last character belongs to a word running across its edge (过渡假期 holds
  渡假, 既使用 holds 既使), nor inside a correct form of a rule or typo.

All variants and wrong forms are compiled into one Aho-Corasick automaton (leftmost-longest)
over the text; readings (pypinyin) are looked up only while building it. Plain code.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick_rs

from review.screening.similar import common_chars, confusable, ordinary_words
from review.screening.spam import STRONG

EXPRESSION, TYPO = "expression", "typo"
# What a hit of a pattern means; one pattern may mean several things (ranked by this order).
_EXACT, _GUARD, _RULE, _VARIANT, _REGION, _TYPO, _SPAM = range(7)
REGIONS = {"台湾": "中国台湾", "香港": "中国香港", "澳门": "中国澳门"}
# Correct ways of writing the regions, so their parts are not taken for a listing.
REGION_FORMS = ("中国台湾", "中国香港", "中国澳门", "台湾地区", "香港地区", "澳门地区",
                "台湾省", "香港特别行政区", "澳门特别行政区", "香港特区", "澳门特区")
COUNTRIES = (
    "中国", "美国", "日本", "韩国", "英国", "法国", "德国", "俄罗斯", "新加坡", "马来西亚",
    "泰国", "越南", "印度", "印度尼西亚", "菲律宾", "澳大利亚", "新西兰", "加拿大", "意大利",
    "西班牙", "葡萄牙", "荷兰", "瑞士", "瑞典", "挪威", "芬兰", "丹麦", "比利时", "奥地利",
    "巴西", "阿根廷", "墨西哥", "朝鲜", "蒙古", "巴基斯坦", "以色列", "埃及", "南非", "爱尔兰",
    "波兰", "希腊", "土耳其", "伊朗", "沙特", "阿联酋", "柬埔寨", "缅甸", "老挝", "尼泊尔",
)
_LISTED = "[、，,和与及/]"
_COUNTRY = "(?:" + "|".join(sorted(COUNTRIES, key=len, reverse=True)) + ")"
_COUNTRY_BEFORE = re.compile(_COUNTRY + r"\s*" + _LISTED + r"\s*$")
_COUNTRY_AFTER = re.compile(r"^\s*" + _LISTED + r"\s*" + _COUNTRY)
def _words(block: str) -> list[str]:
    return block.split()


# Correct words that hold a typo's wrong form across its edges (and which the starter
# list's correct forms do not cover): looked up around a typo, never searched for.
BUILT_IN_GUARDS = frozenset(_words("""
究竟 毕竟 过渡 使用 使得 使之 迫使 促使 致使 假期 假日 寒假 暑假 度假 不得 得以 以往 既往
竞赛 竟然 争取 竞争 部分 份额 一份 年份 省份 身份 股份 帐篷 账号 辩护 辨认 辨析 分辨 辩证
装置 安装 按照 按时 装备 发布 布置 防止 妨害 付出 覆盖 复习 重复 恢复 答复 复合 概括 气概
弛缓 松弛 松树 宣传 发泄 泄露 侯爵 问候 时候 气候 候选 等候 候车 部署 再接再厉 勉励 鼓励 激励
严厉 厉害 凌厉 历史 经历 日历 一如既往 继续 继承 相继 往来 消息 原形 必须 必然 毕业 完毕
门口 门前 门外 门卫 校门 大门 经济 经验 经费 经典 经过 经营 经常 知己 自己 利己 克己 舍己
便于 便捷 便利 方便 为人 为了 为止 拼凑 犯罪 犯错 暑期
"""))
_EDGE = 4  # how far a guard word may reach across a typo's edge


@dataclass(frozen=True, kw_only=True)
class ProtectedName:
    name: str
    title: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class WordingRule:
    wrong: str
    right: str
    severity: str = "block"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class TypoPair:
    wrong: str
    right: str


@dataclass(frozen=True, kw_only=True)
class ExpressionHit:
    kind: str
    severity: str
    category: str
    rule: str
    start: int
    end: int
    suggestion: str


@dataclass
class _Meaning:
    what: int
    suggestion: str = ""
    severity: str = ""
    rule: str = ""
    names: tuple[str, ...] = field(default_factory=tuple)


def name_variants(name: str) -> set[str]:
    """The name with one character replaced by a character it is mistaken for, less those
    that are words or run into ordinary prose."""
    if len(name) < 2:
        return set()
    common, words = common_chars(), ordinary_words()
    variants = set()
    for position, char in enumerate(name):
        edge = position in (0, len(name) - 1)
        for other in confusable(char):
            if edge and other in common:
                continue
            variant = name[:position] + other + name[position + 1:]
            if variant not in words:
                variants.add(variant)
    return variants


class CompiledExpressions:
    """Protected names, wording rules and typos compiled for one pass over a text."""

    def __init__(self, *, names: Iterable[ProtectedName] = (),
                 rules: Iterable[WordingRule] = (), typos: Iterable[TypoPair] = (),
                 spam_words: Iterable[str] = STRONG):
        meanings: dict[str, list[_Meaning]] = {}

        def add(pattern: str, meaning: _Meaning) -> None:
            if len(pattern) >= 2:
                meanings.setdefault(pattern, []).append(meaning)

        names = list(names)
        self.titles: dict[str, set[str]] = {}
        for entry in names:
            self.titles.setdefault(entry.name, set())
            if entry.title:
                self.titles[entry.name].add(entry.title)
        self.all_titles = {title for titles in self.titles.values() for title in titles}
        self.title_lengths = sorted({len(t) for t in self.all_titles}, reverse=True)
        protected = set(self.titles)
        for name, titles in self.titles.items():
            # The exact name is looked for only where a title may be wrong beside it: a
            # variant differs from it, so cannot match where it stands (and ordinary pages
            # name the bureau and the school all the time).
            if titles:
                add(name, _Meaning(_EXACT))
            for title in titles:
                add(title + name, _Meaning(_EXACT))
            for variant in name_variants(name) - protected:
                if len(name) >= 3:
                    add(variant, _Meaning(_VARIANT, suggestion=name, severity="block",
                                          rule=f"规范名称：{name}"))
                # Beside the title, in either order, the whole is reported and replaced (and
                # a two-character name is looked for only there).
                for title in titles:
                    for before, after in ((title + variant, title + name),
                                          (variant + title, name + title)):
                        add(before, _Meaning(_VARIANT, suggestion=after, severity="block",
                                             rule=f"规范名称：{name}"))
        self.guards = set(BUILT_IN_GUARDS)
        for rule in rules:
            add(rule.wrong, _Meaning(_RULE, suggestion=rule.right, severity=rule.severity,
                                     rule=rule.note or f"规范表述：{rule.right}"))
            if rule.wrong in rule.right:  # the right form holds the wrong one: it wins
                add(rule.right, _Meaning(_GUARD))
            self.guards.add(rule.right)
        for region, right in REGIONS.items():
            add(region, _Meaning(_REGION, suggestion=right, severity="block",
                                 rule=f"{region}与国家并列"))
        for form in REGION_FORMS:
            add(form, _Meaning(_GUARD))
        self.typo_wrong = set()
        for typo in typos:
            add(typo.wrong, _Meaning(_TYPO, suggestion=typo.right, severity="warn",
                                     rule=f"易错词：{typo.right}"))
            if typo.wrong in typo.right:
                add(typo.right, _Meaning(_GUARD))
            # Other correct forms are looked up around a typo only (see ``_guarded``): school
            # text is full of them.
            self.guards.add(typo.right)
            self.typo_wrong.add(typo.wrong)
        self.guards -= self.typo_wrong
        # Strong spam words, for the spam detector (review.screening.spam): one pass over the
        # text finds them with everything else.
        for word in spam_words:
            add(word, _Meaning(_SPAM))
        self.patterns = list(meanings)
        self.meanings = [sorted(meanings[p], key=lambda m: m.what) for p in self.patterns]
        # A DFA: four times as fast as the default NFA over school text (each pass counts:
        # the screener must keep 20 MB/s), built in well under a second for 10,000 patterns.
        self.automaton = (ahocorasick_rs.AhoCorasick(
            self.patterns, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST,
            implementation=ahocorasick_rs.Implementation.DFA) if self.patterns else None)

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, text: str, *, spam: list[int] | None = None) -> list[ExpressionHit]:
        """Expression errors and typos in ``text``; where strong spam words start is added
        to ``spam``."""
        if self.automaton is None or not text:
            return []
        hits = []
        for index, start, end in self.automaton.find_matches_as_indexes(text):
            meaning = self.meanings[index][0]
            hit = None
            if meaning.what == _SPAM:
                if spam is not None:
                    spam.append(start)
            elif meaning.what == _EXACT:
                hit = self._wrong_title(text, self.patterns[index], start, end)
            elif meaning.what in (_RULE, _VARIANT):
                hit = ExpressionHit(kind=EXPRESSION, severity=meaning.severity,
                                    category="protected_name" if meaning.what == _VARIANT
                                    else "wording", rule=meaning.rule, start=start, end=end,
                                    suggestion=meaning.suggestion)
            elif meaning.what == _REGION:
                if (_COUNTRY_BEFORE.search(text, max(0, start - 12), start)
                        or _COUNTRY_AFTER.match(text[end:end + 12])):
                    hit = ExpressionHit(kind=EXPRESSION, severity="block", category="wording",
                                        rule=meaning.rule, start=start, end=end,
                                        suggestion=meaning.suggestion)
            elif meaning.what == _TYPO and not self._guarded(text, start, end):
                hit = ExpressionHit(kind=TYPO, severity="warn", category="typo",
                                    rule=meaning.rule, start=start, end=end,
                                    suggestion=meaning.suggestion)
            if hit is not None:
                hits.append(hit)
        return hits

    def _guarded(self, text: str, start: int, end: int) -> bool:
        """A correct word runs across the typo's first or last edge."""
        for edge in (start, end):
            for word_start in range(max(0, edge - _EDGE + 1), edge):
                for word_end in range(edge + 1, min(len(text), word_start + _EDGE) + 1):
                    word = text[word_start:word_end]
                    if word in self.guards:
                        return True
        return False

    def _wrong_title(self, text: str, matched: str, start: int,
                     end: int) -> ExpressionHit | None:
        """A protected name right after or before a title that is not the person's."""
        if not self.all_titles:
            return None
        name = matched
        if name not in self.titles:  # title + name, matched whole: its own title
            return None
        own = self.titles[name]
        if not own:
            return None
        for length in self.title_lengths:
            for title, where in ((text[max(0, start - length):start], "before"),
                                 (text[end:end + length], "after")):
                if len(title) != length or title not in self.all_titles:
                    continue
                if any(title in mine or mine in title for mine in own):
                    return None
                right = sorted(own)[0]
                return ExpressionHit(
                    kind=EXPRESSION, severity="block", category="protected_name",
                    rule=f"职务不符：{name}（{right}）",
                    start=start - length if where == "before" else start,
                    end=end if where == "before" else end + length,
                    suggestion=right + name if where == "before" else name + right)
        return None
