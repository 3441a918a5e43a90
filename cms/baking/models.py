"""The record of what was baked: every public file's SHA-256 and the register entry it reflects.

A row per file that is currently published, replaced whenever the file is rewritten and
removed with it. ``entry`` is the publication register's head when the file was rendered:
the file is the rendering of the signed register up to that entry, so a page's file whose
``entry`` is older than the page's own latest entry missed a publication. check-live
(``cms.baking.livecheck``) compares the files on disk with these rows.

Records and files agree after a crash at any instant: a file is announced (``pending_sha256``:
the bytes about to be renamed into place, or ``DELETING``) before it is replaced or removed,
and the row is completed afterwards. A row still pending after a crash is settled by what is
on disk (``cms.baking.engine.reconcile_pending``): the new bytes landed, the old ones stayed
(the row then no longer claims any register entry), or the file was never created or is gone.
"""

from django.db import models

DELETING = "-"


class BakedFile(models.Model):
    site = models.CharField(max_length=255)  # the site's directory under BAKE_DIR
    path = models.CharField(max_length=1024)  # relative to it, POSIX separators
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    # The page whose URL this is (a column's for its pagination files); none for sitemap.xml.
    page = models.ForeignKey("wagtailcore.Page", null=True, blank=True, related_name="+",
                             on_delete=models.SET_NULL)
    entry = models.ForeignKey("review.RegisterEntry", null=True, blank=True, related_name="+",
                              on_delete=models.PROTECT)
    baked_at = models.DateTimeField()
    # Set before the file is replaced (the new SHA-256) or removed (DELETING), cleared once
    # the row describes the file again; "" otherwise.
    pending_sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # For a listing's archive page: the SHA-256 of what it shows (articles and resources with
    # their live revisions, its neighbours), so that a bake renders only archive pages whose
    # content changed (cms.baking.engine); "" for other files.
    inputs = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "path"],
                                               name="one_record_per_baked_file")]

    def __str__(self):
        return f"{self.site}/{self.path}"
