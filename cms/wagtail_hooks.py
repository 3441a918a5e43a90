from wagtail import hooks

from cms.accounts.users import check_bulk_action_on_users
from cms.baking.livecheck import check_files

hooks.register("before_bulk_action", check_bulk_action_on_users)


@hooks.register("review_live_checks")
def check_baked_files(*, progress=None):
    """publication_log check-live also checks the baked public files (static publishing)."""
    return check_files(progress=progress)
