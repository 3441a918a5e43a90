from wagtail import hooks


@hooks.register("register_log_actions")
def register_review_log_actions(actions):
    actions.register_action("review.screened", "自动内容检查", "自动内容检查完成")
    actions.register_action("review.signed", "领导签名审批", "领导已签名审批")
