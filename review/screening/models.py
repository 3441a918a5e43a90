"""The screening lexicon: sensitive words, the allow list, and rescans of live content
after either changed. Every change is kept (django-simple-history)."""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from review.exceptions import TermError
from review.screening.matching import SEVERITIES, check_term

CATEGORY_LABELS = {
    "gambling": "赌博", "pornography": "色情", "fraud": "诈骗", "drugs": "毒品",
    "spam": "垃圾广告", "education": "教育违规", "privacy": "个人信息", "political": "政治",
    "violence": "暴力", "other": "其他", "weapons": "枪支爆炸物", "fake_documents": "假证假票",
    "gambling_brands": "博彩品牌", "surveillance": "窃听偷拍器材", "illegal_trade": "非法买卖",
}


class Severity(models.TextChoices):
    BLOCK = "block", "拦截（退回作者）"
    REVIEW = "review", "人工复核（须说明理由才能通过）"
    WARN = "warn", "提示"


assert tuple(Severity.values) == SEVERITIES


def _validate_term(word: str) -> None:
    try:
        check_term(word)
    except TermError as error:
        raise ValidationError(str(error)) from error


class LexiconEntry(models.Model):
    """A sensitive word. Matched however it is disguised (review.screening.folding); every change is
    kept (django-simple-history) and makes live content be rescanned."""

    word = models.CharField("词条", max_length=100, unique=True, validators=[_validate_term])
    category = models.CharField("类别", max_length=50, db_index=True,
                                help_text="如 gambling、pornography、fraud、education。")
    severity = models.CharField("处理级别", max_length=8, choices=Severity.choices,
                                default=Severity.BLOCK, db_index=True)
    note = models.CharField("备注", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="词库变更历史")

    class Meta:
        verbose_name = "敏感词"
        verbose_name_plural = "敏感词库"
        ordering = ["category", "word"]

    def __str__(self):
        return self.word

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


class AllowListEntry(models.Model):
    """A phrase that holds a sensitive word legitimately (反赌博, 严禁有偿补课): a match lying
    inside it is not reported."""

    word = models.CharField("允许短语", max_length=100, unique=True, validators=[_validate_term])
    note = models.CharField("备注", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="允许短语变更历史")

    class Meta:
        verbose_name = "允许短语"
        verbose_name_plural = "允许短语"
        ordering = ["word"]

    def __str__(self):
        return self.word


class LexiconRescan(models.Model):
    """A rescan of live content after the lexicon changed: queued by the change, run in the
    background (the task review.screening.rescan.rescan_lexicon), its results listed in the
    admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    reason = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    # [{content_type, object_id, title, admin_url, findings: [finding dicts]}]
    matches = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "词库变更复查"
        verbose_name_plural = "词库变更复查"
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"rescan {self.pk} {self.status}"


def _validate_phrase(value: str) -> None:
    if len(value.strip()) < 2:
        raise ValidationError(f"“{value}”：至少两个字符。")


class ProtectedName(models.Model):
    """A name that must be written exactly: a state leader (with title), the state and its
    institutions, the bureau, a school, their leaders. A near miss (one character replaced by
    a homophone or a similar-looking character) or the name beside another's title is a
    serious expression error (review.screening.expression)."""

    name = models.CharField("规范名称", max_length=100, validators=[_validate_phrase])
    title = models.CharField("职务", max_length=100, blank=True,
                             help_text="人名填写其职务（如“县教育局局长”）；机构名称留空。")
    note = models.CharField("备注", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="规范名称变更历史")

    class Meta:
        verbose_name = "规范名称"
        verbose_name_plural = "规范名称"
        ordering = ["name", "title"]
        constraints = [models.UniqueConstraint(fields=["name", "title"],
                                               name="review_protected_name_unique")]

    def __str__(self):
        return f"{self.title}{self.name}" if self.title else self.name

    @property
    def word(self) -> str:  # what rescans' reasons name
        return str(self)


class WrongRightPair:
    """A wrong form and its right one (wording rules, typos)."""

    def __str__(self):
        return f"{self.wrong} → {self.right}"

    def clean(self):
        super().clean()
        if self.wrong and self.wrong.strip() == (self.right or "").strip():
            raise ValidationError({"right": "正确写法不能与错误写法相同。"})

    @property
    def word(self) -> str:
        return self.wrong


class WordingRule(WrongRightPair, models.Model):
    """A normative wording rule: a wrong formulation and the right one (一带一路战略 →
    一带一路倡议), with where the rule comes from."""

    wrong = models.CharField("错误表述", max_length=100, unique=True,
                             validators=[_validate_phrase])
    right = models.CharField("规范表述", max_length=100)
    severity = models.CharField("处理级别", max_length=8, choices=Severity.choices,
                                default=Severity.BLOCK, db_index=True)
    note = models.CharField("依据说明", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="规范表述变更历史")

    class Meta:
        verbose_name = "规范表述"
        verbose_name_plural = "规范表述"
        ordering = ["wrong"]


class TypoEntry(WrongRightPair, models.Model):
    """A word schools often mistype and its right form (按装 → 安装)."""

    wrong = models.CharField("错别字", max_length=50, unique=True, validators=[_validate_phrase])
    right = models.CharField("正确写法", max_length=50)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="易错词变更历史")

    class Meta:
        verbose_name = "易错词"
        verbose_name_plural = "易错词表"
        ordering = ["wrong"]
