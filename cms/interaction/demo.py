"""Demo: each organisation's web administrator designated its 留言处理人, and the public's
first messages — a question to 一中's 校长信箱 and a report to the bureau — received through
the same checks as the public forms (screened, contact details sealed)."""

from cms.interaction.models import Handler, Kind
from cms.interaction.submission import submit

MESSAGES = [
    ("yizhong", Kind.MESSAGE, {
        "title": "初一新生军训时间咨询",
        "body": "请问今年初一新生军训从哪天开始？需要提前准备哪些物品？",
        "name": "李女士", "phone": "13800000000"}),
    ("shiyan", Kind.REPORT, {
        "title": "校门口流动摊贩售卖三无食品",
        "body": "实验小学校门口放学时段有流动摊贩售卖三无食品，存在安全隐患，请核查。",
        "url": ""}),
]


def build_interaction_demo(*, organisations: dict, users: dict) -> int:
    """Designate handlers and receive the demo messages; how many were received."""
    for key, organisation in organisations.items():
        admin = users[f"{'county' if key == 'portal' else key}_admin"]
        Handler.objects.get_or_create(organisation=organisation.home_page, user=admin,
                                      defaults={"designated_by": admin})
    for key, kind, data in MESSAGES:
        submit(kind=kind, site_root=organisations[key].home_page, data=data,
               address="127.0.0.1")
    return len(MESSAGES)
