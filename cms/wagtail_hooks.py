from wagtail import hooks

from cms.users import check_bulk_action_on_users

hooks.register("before_bulk_action", check_bulk_action_on_users)
