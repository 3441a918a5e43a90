"""Writes bench/expression_labelled.jsonl: the labelled set for ``expression`` and ``typo``.

    .venv/bin/python bench/make_expression_set.py

School-news sentences written for this project, each in two forms: with an error (a protected
name with one character replaced by a homophone or a similar-looking character, a name beside
another's title, a wording rule's wrong form, Taiwan/Hong Kong/Macau listed beside countries,
a typo of the starter confusion list) and correct (the same sentence with the right form).
Decoys are correct sentences that hold a typo's wrong form across word boundaries (过渡假期,
既使用). The names are the starter list's and invented local ones (BENCH_NAMES). Variants are
drawn, with a fixed seed, from the screener's own variant table among GB 2312 level-1
characters (what a pinyin input method offers first). Each line:
``{"id", "group": "error"|"correct"|"decoy", "text", "expected": [{"kind", "match"}]}``.
"""

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review.screening.expression import name_variants  # noqa: E402

OUT = ROOT / "bench" / "expression_labelled.jsonl"
# Invented local names (bureau, schools, their leaders) and the example.
BENCH_NAMES = [
    ("周建国", "青溪县教育局局长"), ("陈晓梅", "青溪县实验小学校长"),
    ("林志远", "青溪县第一中学校长"), ("杜家毫", "湖南省委书记"),
    ("青溪县教育局", ""), ("青溪县实验小学", ""), ("青溪县第一中学", ""),
    ("中华人民共和国教育部", ""), ("全国人民代表大会", ""), ("中国少年先锋队", ""),
]
NAME_SENTENCES = [
    "{x}到校调研课后服务工作，详细了解了社团活动开展情况。",
    "会上，{x}传达了全省教育工作会议精神，并对下一阶段工作作了部署。",
    "据{x}介绍，今年全县新建改建校舍面积超过两万平方米。",
    "开学第一天，{x}来到一年级教室，和新同学们亲切交谈。",
    "本次教研活动由{x}主持，全县40余名骨干教师参加。",
    "{x}在讲话中强调，要把校园安全放在首位，落实各项防范措施。",
]
WORDING_SENTENCES = {
    "一带一路战略": "学校开展“{x}”主题研学活动，引导学生了解沿线国家文化。",
    "一带一路计划": "地理课上，老师结合地图讲解了{x}的重要意义。",
    "一带一路工程": "我校学生在征文中写下了对{x}的理解。",
    "两岸三地": "本次夏令营邀请了{x}的青少年共同参加。",
    "两岸四地": "{x}的中学生在比赛中同台竞技，交流学习心得。",
    "台湾总统": "历史课上，有学生提问{x}一词是否规范。",
    "台湾政府": "新闻稿中提到的{x}一词已按规范修改。",
    "中华民国总统": "课件中出现的{x}表述须按规范修改。",
    "中华民国政府": "1949年以后的{x}这一说法不能使用。",
    "中华民国国旗": "校园展板中不得出现{x}图案。",
    "台湾行政院": "新闻报道转述了{x}的有关说法。",
    "台湾立法院": "材料中引用了{x}的有关内容。",
    "台湾与中国": "演讲稿中“{x}”的说法须按规范修改。",
    "香港与中国": "交流活动报道中出现了“{x}”的说法。",
    "澳门与中国": "研学手册中“{x}”一句已经修改。",
    "中港台": "本次比赛吸引了{x}三地学生参加。",
    "大中华地区": "这家出版社的教辅在{x}发行。",
    "北朝鲜": "地理课介绍了{x}的地形和气候特点。",
    "南朝鲜": "外事接待中提到了{x}友好学校来访的安排。",
    "外蒙古": "地理课上，同学们认识了{x}的草原风光。",
    "尖阁列岛": "课件把钓鱼岛错写成了{x}。",
    "尖阁诸岛": "地图上的{x}标注已经更正。",
    "斯卡伯勒浅滩": "海洋知识讲座提到了{x}。",
    "阿鲁纳恰尔邦": "地理作业中出现了{x}的说法。",
    "西藏流亡政府": "时政课材料中的{x}表述须修改。",
    "国家总理": "时政课上，同学们学习了{x}在记者会上的答问。",
    "人大委员长": "班会上同学们学习了{x}的讲话精神。",
    "内蒙自治区": "今年暑假，学校组织学生赴{x}开展研学。",
    "广西自治区": "来自{x}的交流教师到我校上了一堂示范课。",
    "宁夏自治区": "我校与{x}的一所学校结成了友好学校。",
    "新疆自治区": "援疆教师在{x}支教一年后返回学校。",
    "八年抗战": "历史课上，老师讲述了{x}的艰苦历程。",
    "新时代中国特色社会主义思想": "全体教师深入学习{x}。",
    "中国共产党第二十次代表大会": "学校组织师生收看{x}开幕会。",
    "共产主义青年团": "今年五四，{x}青溪县委表彰了一批优秀团员。",
    "少年先锋队": "新队员在{x}队旗下庄严宣誓。",
}
REGION_SENTENCES = [
    ("参加比赛的选手来自日本、{x}和新加坡。", "台湾", "中国台湾"),
    ("交流团成员来自美国、{x}等地。", "香港", "中国香港"),
    ("留学生来自韩国、{x}、英国。", "澳门", "中国澳门"),
    ("夏令营营员分别来自法国、{x}。", "台湾", "中国台湾"),
    ("本次展览展出了来自德国、{x}和意大利的作品。", "香港", "中国香港"),
    ("参赛队伍来自俄罗斯、{x}与马来西亚。", "澳门", "中国澳门"),
    ("合作学校分布在英国、{x}、加拿大。", "台湾", "中国台湾"),
    ("参展学校来自泰国和{x}。", "香港", "中国香港"),
]
TYPO_SENTENCES = {
    "按装": "学校为每间教室{x}了护眼灯。",
    "既使": "{x}天气炎热，同学们依然坚持训练。",
    "再接再励": "希望获奖同学{x}，在新学期取得更好成绩。",
    "迫不急待": "同学们{x}地打开了新课本。",
    "一股作气": "接力赛中，最后一棒{x}冲过终点。",
    "墨守成规": None,
    "谈笑风声": "联欢会上，师生{x}，其乐融融。",
    "出奇不意": "这次辩论，反方{x}地提出了新论点。",
    "走头无路": "故事里的主人公一度{x}，最终靠努力走出困境。",
    "甘败下风": "双方队员互不{x}，比赛十分激烈。",
    "金榜提名": "祝愿高三学子{x}。",
    "穿流不息": "校门口接送孩子的车辆{x}。",
    "美仑美奂": "新落成的图书馆{x}。",
    "世外桃园": "学生们用画笔描绘心中的{x}。",
    "一如继往": "学校将{x}地支持学生社团发展。",
    "情不自尽": "听到获奖消息，同学们{x}地欢呼起来。",
    "破斧沉舟": "他以{x}的决心备战中考。",
    "声名雀起": "我校合唱团在省赛中获奖后{x}。",
    "不径而走": "好人好事的消息在校园里{x}。",
    "人才倍出": "我校科技创新社团{x}。",
    "蛛丝蚂迹": "侦探小说阅读课上，同学们寻找文中的{x}。",
    "鼎立相助": "感谢社区对学校活动的{x}。",
    "记忆尤新": "去年研学的情景至今{x}。",
    "迫在眉捷": "提升学生体质健康水平{x}。",
    "重蹈复辙": "要认真总结教训，避免{x}。",
    "一愁莫展": "面对难题，他没有{x}，而是向老师请教。",
    "寒喧": "家长会开始前，老师与家长亲切{x}。",
    "松驰": "考试结束后，同学们的心情终于{x}下来。",
    "辨论": "七年级举行了主题{x}赛。",
    "辩别": "科学课上，同学们学习{x}岩石的种类。",
    "渡假": "寒假里，小明一家去海南{x}。",
    "竟争": "同学之间要良性{x}，互相帮助。",
    "竞然": "没想到这道题{x}这么简单。",
    "题纲": "老师给每位同学发了复习{x}。",
    "追朔": "这项传统可以{x}到明朝。",
    "针贬": "评论员在文中{x}时弊。",
    "暴炸": "消防演练中讲解了燃气{x}的危害。",
    "幅射": "科学课介绍了紫外线{x}的知识。",
    "防碍": "乱停车辆{x}了学生通行。",
    "复盖": "校园无线网络已{x}全部教学楼。",
    "气慨": "运动员们展现出顽强拼搏的{x}。",
    "按步就班": "复习要{x}，不能急于求成。",
    "坐阵": "期中考试期间，校长亲自{x}指挥。",
    "粗旷": "这幅书法作品笔力{x}。",
    "侯车": "学生放学后在{x}区有序排队。",
    "一诺千斤": "诚信教育课上，老师讲述了{x}的故事。",
    "言简意骇": "这篇作文{x}，得到了老师的表扬。",
    "相形见拙": "与其他班级相比，我们班的板报并不{x}。",
    "再所不辞": "为了集体荣誉，他{x}。",
    "震憾": "观看爱国主义影片后，同学们深受{x}。",
    "莫明其妙": "这道题的答案让人{x}。",
    "兴高彩烈": "孩子们{x}地参加游园活动。",
    "无精打彩": "熬夜会让人第二天{x}。",
    "名符其实": "这位老师是{x}的教学能手。",
    "如火如茶": "校园读书节活动正{x}地进行。",
    "消声匿迹": "经过整治，校园周边的流动摊贩{x}。",
    "直接了当": "他{x}地指出了问题所在。",
    "人情事故": "小说中的人物深谙{x}。",
    "按耐不住": "同学们{x}内心的激动。",
    "娇揉造作": "朗诵要自然大方，不要{x}。",
    "既往开来": "{x}，谱写学校发展新篇章。",
    "入场卷": "家长凭{x}进入会场。",
    "优惠卷": "学校提醒学生警惕所谓的{x}诈骗。",
    "编缉": "校报{x}部招募新成员。",
    "通迅": "请各班{x}员按时上交稿件。",
    "磨擦": "同学之间发生{x}时要冷静处理。",
    "陷井": "老师提醒学生警惕网络{x}。",
    "国藉": "外籍学生需提供{x}证明。",
    "必竟": "{x}是第一次参赛，取得这样的成绩已经很好。",
    "急燥": "遇到难题时不要{x}。",
    "烦燥": "天气闷热，容易让人{x}。",
    "宏扬": "{x}中华优秀传统文化。",
    "好高鹜远": "学习要脚踏实地，不能{x}。",
    "披星带月": "环卫工人{x}，守护城市整洁。",
    "坚苦卓绝": "红军长征是{x}的伟大壮举。",
    "迫不得以": "因天气原因，运动会{x}延期。",
    "关怀倍至": "老师对留守儿童{x}。",
    "不加思索": "他{x}地回答了问题。",
    "循序渐近": "体育锻炼要{x}。",
    "因材失教": "教师要{x}，关注每一个学生。",
    "举一返三": "数学学习要学会{x}。",
    "融汇贯通": "只有理解了原理，才能{x}。",
    "座右名": "“业精于勤”是他的{x}。",
    "品学兼忧": "她是一名{x}的好学生。",
    "签定": "学校与家长{x}了安全责任书。",
    "布署": "会议对下学期工作进行了{x}。",
    "以经": "新图书馆{x}正式投入使用。",
    "做为": "{x}班长，他处处起带头作用。",
    "周未": "{x}两天，学校图书馆照常开放。",
    "防犯": "学校开展{x}电信诈骗专题教育。",
    "班级管里": "班主任交流了{x}经验。",
    "同学门": "{x}积极参加植树活动。",
}
TYPO_RIGHT = {}
DECOYS = [
    "过渡假期要注意饮食和作息。",
    "他既使用了传统方法，又尝试了新技术。",
    "他们究竟争论的是什么问题？",
    "同学们要相信自己经过努力一定能成功。",
    "坚持以经济建设为中心。",
    "全部暑假作业已经批改完毕。",
    "学校积极开展预防犯罪教育。",
    "同学门前的小路已经修好。",
    "家长们在校门口等候。",
    "做为人民服务的好少年。",
    "毕竟争取到了比赛资格。",
    "他觉得自己知道答案。",
    "知己知彼，百战不殆。",
    "学校要为学生的全面发展创造条件。",
    "这种方法既便于操作，又节省时间。",
    "我们要学会辨别是非，明辨事理。",
    "课前准备部分同学还不够充分。",
    "国家总体安全观教育进课堂。",
    "台湾是中国的一个省。",
    "香港特别行政区和澳门特别行政区的学生来访。",
    "中国香港、中国澳门和中国台湾的青少年参加交流。",
    "周建国局长到实验小学调研。",
    "陈晓梅校长为新教师作培训。",
    "中国少年先锋队建队纪念日主题队日活动。",
]


def level_one(char: str) -> bool:
    try:
        encoded = char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


def variant_of(name: str, rng: random.Random) -> str:
    choices = sorted(v for v in name_variants(name)
                     if all(level_one(c) for c in v))
    return rng.choice(choices)


def typo_right() -> dict[str, str]:
    import csv

    with open(ROOT / "review" / "lexicon" / "typos.csv", encoding="utf-8") as handle:
        return {row["wrong"]: row["right"] for row in csv.DictReader(handle)}


def main() -> None:
    rng = random.Random(20261203)
    items = []

    def add(group: str, text: str, expected: list[tuple[str, str]]) -> None:
        items.append({"id": f"{group}-{len(items) + 1:03}", "group": group, "text": text,
                      "expected": [{"kind": k, "match": m} for k, m in expected]})

    for name, title in BENCH_NAMES:
        for template in NAME_SENTENCES:
            wrong = variant_of(name, rng)
            if title and rng.random() < 0.5:
                add("error", template.format(x=title + wrong), [("expression", title + wrong)])
                add("correct", template.format(x=title + name), [])
            else:
                add("error", template.format(x=wrong), [("expression", wrong)])
                add("correct", template.format(x=name), [])
    people = [(n, t) for n, t in BENCH_NAMES if t]
    for index, (name, _) in enumerate(people):
        other_title = people[(index + 1) % len(people)][1]
        own = people[index][1]
        template = NAME_SENTENCES[index % len(NAME_SENTENCES)]
        add("error", template.format(x=other_title + name), [("expression", other_title + name)])
        add("correct", template.format(x=own + name), [])
    import csv

    with open(ROOT / "review" / "lexicon" / "wording.csv", encoding="utf-8") as handle:
        rules = {row["wrong"]: row["right"] for row in csv.DictReader(handle)}
    for wrong, template in WORDING_SENTENCES.items():
        add("error", template.format(x=wrong), [("expression", wrong)])
        add("correct", template.format(x=rules[wrong]), [])
    for template, region, right in REGION_SENTENCES:
        add("error", template.format(x=region), [("expression", region)])
        add("correct", template.format(x=right), [])
    rights = typo_right()
    for wrong, template in TYPO_SENTENCES.items():
        if template is None:
            continue
        add("error", template.format(x=wrong), [("typo", wrong)])
        add("correct", template.format(x=rights[wrong]), [])
    for text in DECOYS:
        add("decoy", text, [])
    OUT.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items),
                   encoding="utf-8")
    groups = {g: sum(1 for i in items if i["group"] == g) for g in ("error", "correct", "decoy")}
    print(f"{len(items)} sentences written to {OUT.name}: {groups}")


if __name__ == "__main__":
    main()
