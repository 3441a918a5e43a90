from wagtail import hooks


@hooks.register("register_log_actions")
def register_review_log_actions(actions):
    actions.register_action("review.screened", "自动内容检查", "自动内容检查完成")
    actions.register_action("review.signed", "领导签名审批", "领导已签名审批")


def _without_publish(menu_items):
    # Publishing happens when the leader signs; offering the button would only end in a refusal.
    menu_items[:] = [item for item in menu_items if item.name != "action-publish"]


@hooks.register("construct_page_action_menu")
def hide_page_publish(menu_items, request, context):
    _without_publish(menu_items)


@hooks.register("construct_snippet_action_menu")
def hide_snippet_publish(menu_items, request, context):
    _without_publish(menu_items)
