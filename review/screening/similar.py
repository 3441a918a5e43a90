"""Characters a name can be mistyped into: homophones (the same syllable, any tone, as a
pinyin input method offers them) and similar-looking characters (a table we keep by hand).

Readings come from pypinyin's character table, read once when the tables are built (never
per character while scanning). Only characters of GB 2312 are offered as replacements: what
an input method offers first, and what a typist picks by mistake. Plain functions, no Django.
"""

import functools
import unicodedata
from pathlib import Path

# Groups of characters that look alike (one stroke more or less, a similar component),
# written for this project from common proof-reading experience. A character may be in
# several groups.
SIMILAR_SHAPES = """
己已巳 未末 戍戌戊戎 毫豪亳 炜玮伟苇韦 祎袆 玥钥 琦绮崎骑 璋漳樟彰 瑜愉榆逾 瑾谨 璐潞露路
晖辉挥珲 晔烨 昊吴 旻昱 昀均 暘旸扬杨炀 阳阴 汶纹 泓弘 浩皓 淼渺 涛焘祷 澍树 濂廉镰 洪哄
栋冻 桢祯帧 梓锌 楠南 柏伯 桦骅华 彬杉 森淼 鑫鑫 铭名 锋峰烽蜂 钧均 镇缜慎 锦绵 钰钮
恒桓垣 怡贻诒 忻欣昕 悦阅说 惠蕙慧 慈兹磁 恺凯铠 宪完 宏宠 宸晨辰 寅演 寰环 宵霄
浚峻骏竣俊 浈侦 淳谆醇 渊测 湘厢 溪奚 滢莹萤营 澄登 潇萧 灏颢 焕换涣唤 炳柄 煜昱
燕艳 熙煕 璇旋漩 瑶遥谣 璟景影 蕾雷 蓉容溶熔榕 薇微徵 菁箐著 荣营莹 莉利俐 萍评坪
茜西 苗笛 芳方仿 芬纷 蔚慰 蒋将 葛蔼 董懂 萌盟 荟会 晓哓 睿叡 鹏朋棚 鹤鹊 鸿鸣 凤风
凯剀 劼颉 勃渤 勋熏 励厉 务务 卫卬 厚原 坤伸 垚尧 埔浦 培倍陪赔 堃昆 增赠 壮状 奕弈
娟涓鹃 娴闲 婷停 媛援 嫣焉 孜孔 宇字 宁守 宜宣 宽宛 岚风 峥铮筝 崇祟 嵘荣 巍魏 帅师
帆凡 庆厌 康慷 廷延 弢韬 彤肜 徐涂 德得 恩思 悌梯 惟维唯帷 慧彗 懿撼 敏繁 文纹 斌赋
旭旮 明朋 星醒 春椿 昭照招 晋普 晶品 暄喧渲 曦羲 朗郎 杰烈 松淞 林琳霖 柯珂轲 栩诩
桂硅 梁粱 梦楚 棠堂 椿春 楷揩 樱婴 欢观 毅豰 汀订 沁泌 沛市 泉汞 泽择 洁诘 洋样 浩告
淑叔 清请情晴睛 渝谕愉 源塬 溢益 滨缤 漫慢 潮朝 澜阑 瀚翰 炎焱 烁铄 焱淼 然燃
玉王主 珍诊 珊删 琪淇棋祺旗 琳淋 瑞端 瑛英 璞朴 环坏 甜恬 申甲由电田 畅肠 登凳 皓浩
盛晟 真直 睿容 瞻赡 知智 石右 研妍 硕烁 祥样详 福副富幅 禹离 秀透 程呈 穗惠 立亚
竹竺 笑芙 筠均 箫萧 籍藉 素索 紫柴 红虹 纯纯 绍沼 维帷 缘椽 罗萝逻 羽习 翔详祥 翠萃
耀曜 聪总 胜性 舒抒 航杭 良艮 艳焰 芝乏 苏办 英央 范苑 茂戊 莎沙 菲斐 萱宣 蓓倍
蕊芯 薛辟 虹红 蜀独 衡街 裕浴 褚诸 西酉 观现 言信 誉誊 诗诚 谊宜 豫像 贤坚 贺资 赛塞
赵起 超越 跃耀 路璐 辉晖 达这 迪笛 逸免 遥瑶 邦帮 郁有 郭享 鄂愕 金全 钊钏 铮筝 锐税
闵闽 闻问 阔活 陈阵 陆际 隆降 雁鹰 雅鸦 雪雷 霞暇 靖倩 静净 韩翰 韵均 顺须 颖倾 飞飘
馨磬 骥冀 鹏鹍 麟鳞 黎黍 鼎晶 龙尤 义议仪 平评苹萍 国固图 家豕 近进 习刁 民氏 克兑
育肓 盲肓 部陪 委季 党堂 政致 府付 院完 局居 厅斤 校较 县具 镇填 乡多 村材 区匹 市币
"""
COMMON_CHARS_FILE = Path(__file__).with_name("data") / "common_chars.txt"


def _gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


_TONE_MARKS = str.maketrans("", "", "\u0300\u0301\u0304\u030c")


@functools.cache
def _toneless(reading: str) -> str:
    """hǎo → hao, lǜ → lü: tone marks off (pypinyin's own converter is ten times slower)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", reading).translate(
        _TONE_MARKS))


@functools.cache
def _readings() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Each character's toneless syllables, and each syllable's GB 2312 characters."""
    from pypinyin.pinyin_dict import pinyin_dict

    by_char: dict[str, frozenset[str]] = {}
    by_syllable: dict[str, set[str]] = {}
    for code, readings in pinyin_dict.items():
        char = chr(code)
        syllables = frozenset(_toneless(r) for r in readings.split(","))
        by_char[char] = syllables
        if 0x4E00 <= code <= 0x9FFF and _gb2312(char):
            for syllable in syllables:
                by_syllable.setdefault(syllable, set()).add(char)
    return by_char, {s: frozenset(c) for s, c in by_syllable.items()}


@functools.cache
def _shapes() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in SIMILAR_SHAPES.split():
        for char in group:
            table.setdefault(char, set()).update(c for c in group if c != char)
    return {char: frozenset(others) for char, others in table.items()}


@functools.cache
def common_chars() -> frozenset[str]:
    """The most frequent characters of ordinary prose (see the data file's first lines)."""
    lines = COMMON_CHARS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset("".join(line for line in lines if not line.startswith("#")))


def homophones(char: str) -> frozenset[str]:
    by_char, by_syllable = _readings()
    found: set[str] = set()
    for syllable in by_char.get(char, ()):
        found |= by_syllable.get(syllable, frozenset())
    found.discard(char)
    return frozenset(found)


def similar_shapes(char: str) -> frozenset[str]:
    return _shapes().get(char, frozenset())


@functools.cache
def confusable(char: str) -> frozenset[str]:
    """What ``char`` may have been mistyped as."""
    return homophones(char) | similar_shapes(char)


@functools.cache
def ordinary_words() -> frozenset[str]:
    """Words of pypinyin's phrase table: a variant that is one of them is ordinary prose."""
    from pypinyin.phrases_dict import phrases_dict

    return frozenset(phrases_dict)
