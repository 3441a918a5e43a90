from wagtail import hooks

from cms.baking.livecheck import check_files


@hooks.register("review_live_checks")
def check_baked_files(*, progress=None):
    """publication_log check-live also checks the baked public files (static publishing)."""
    return check_files(progress=progress)
