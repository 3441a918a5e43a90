"""Site health's records: every checked link target with its history and where it is used,
the availability probes, and one snapshot a day per site (for trends and the daily report).

Generic over Wagtail sites and pages; nothing here knows the cms models.
"""

import hashlib

from django.db import models

from review.health import links


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class LinkTarget(models.Model):
    """One address linked from published pages, as last checked. Internal targets are kept
    only once found broken (so the table stays the size of the problems, not of the site)."""

    class State(models.TextChoices):
        OK = links.OK, "正常"
        BROKEN = links.BROKEN, "错误链接"
        SUSPECT = links.SUSPECT, "疑似错误"
        SKIPPED = links.SKIPPED, "robots.txt 禁止检查"
        MUTATED = links.MUTATED, "外链变异"

    url = models.TextField("地址")
    url_hash = models.CharField(max_length=64, unique=True)
    host = models.CharField("主机", max_length=255, db_index=True)
    external = models.BooleanField("外部链接", default=False, db_index=True)
    kind = models.CharField("类型", max_length=16, default=links.ANCHOR)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.OK,
                             db_index=True)
    status = models.IntegerField("HTTP 状态", null=True, blank=True)
    error = models.CharField("错误", max_length=255, blank=True)
    final_url = models.TextField("最终地址", blank=True)
    # The current run of failed checks (timeouts, 5xx): suspect until it is long enough.
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField("最近检查", null=True, blank=True)
    # External targets: the fingerprint taken when a page linking here was approved, the
    # latest one, and why the latest is no longer the approved one.
    approved_fingerprint = models.JSONField(null=True, blank=True)
    fingerprinted_at = models.DateTimeField(null=True, blank=True)
    latest_fingerprint = models.JSONField(null=True, blank=True)
    mutations = models.JSONField(default=list, blank=True)
    harmful = models.BooleanField(default=False)

    class Meta:
        verbose_name = "链接检查对象"
        verbose_name_plural = "链接检查对象"
        ordering = ["url"]

    def __str__(self):
        return self.url

    def save(self, *args, **kwargs):
        self.url_hash = url_hash(self.url)
        super().save(*args, **kwargs)


class LinkUse(models.Model):
    """A published page linking to a target, as seen by the latest check of its site."""

    target = models.ForeignKey(LinkTarget, on_delete=models.CASCADE, related_name="uses")
    site = models.ForeignKey("wagtailcore.Site", on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    on_homepage = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "page"],
                                               name="health_one_use_per_page")]

    def __str__(self):
        return f"{self.page_id} → {self.target_id}"


class LinkCheck(models.Model):
    """One check of a target: the history kept per address."""

    target = models.ForeignKey(LinkTarget, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=16, choices=LinkTarget.State.choices)
    status = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    final_url = models.TextField(blank=True)
    mutations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self):
        return f"{self.target_id} {self.state} {self.checked_at:%Y-%m-%d %H:%M}"


class AvailabilityProbe(models.Model):
    """One probe of a site's homepage (可用性): whether it opened within the time limit."""

    site = models.ForeignKey("wagtailcore.Site", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    status = models.IntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "可用性探测"
        verbose_name_plural = "可用性探测"
        ordering = ["-at"]
        indexes = [models.Index(fields=["site", "at"])]

    def __str__(self):
        return f"{self.site_id} {'ok' if self.ok else 'failed'} {self.at:%Y-%m-%d %H:%M}"


class HealthSnapshot(models.Model):
    """A site's health as computed once a day: its report (the ``site_health`` JSON of the
    site), kept for the trends and for telling what changed since the day before."""

    site = models.ForeignKey("wagtailcore.Site", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(db_index=True)
    taken_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    report = models.JSONField()
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "网站健康日快照"
        verbose_name_plural = "网站健康日快照"
        ordering = ["site", "-day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"],
                                               name="health_one_snapshot_a_day")]

    def __str__(self):
        return f"{self.site_id} {self.day} {self.score}"
