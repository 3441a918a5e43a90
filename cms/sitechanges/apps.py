from django.apps import AppConfig


class SiteChangesConfig(AppConfig):
    """Site records and external redirects change only through the bureau leader's signed
    approval (invariant 7: a site's root and its redirects are part of what readers get)."""

    name = "cms.sitechanges"
    label = "sitechanges"
    verbose_name = "站点与跳转变更"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
        from wagtail.contrib.redirects.models import Redirect
        from wagtail.models import Site
        from wagtail.signals import published

        from cms.sitechanges import guards
        from cms.sitechanges.models import SiteChange

        pre_save.connect(guards.refuse_unapproved_site_save, sender=Site,
                         dispatch_uid="sitechanges_site_save")
        pre_delete.connect(guards.refuse_unapproved_site_delete, sender=Site,
                           dispatch_uid="sitechanges_site_delete")
        pre_save.connect(guards.refuse_unapproved_external_redirect, sender=Redirect,
                         dispatch_uid="sitechanges_redirect_save")
        post_save.connect(guards.register_redirect_saved, sender=Redirect,
                          dispatch_uid="sitechanges_redirect_saved")
        post_delete.connect(guards.register_redirect_deleted, sender=Redirect,
                            dispatch_uid="sitechanges_redirect_deleted")
        published.connect(guards.apply_approved_change, sender=SiteChange,
                          dispatch_uid="sitechanges_apply")
