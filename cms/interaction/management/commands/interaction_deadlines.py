"""python manage.py interaction_deadlines

Warns handlers of messages due soon and escalates overdue ones to the organisation's leaders
and the bureau (each once); drops the rate counters of windows that are over. Run daily by
the schedule (cms.jobs)."""

from django.core.management.base import BaseCommand

from cms.interaction.escalation import check_deadlines
from cms.interaction.submission import prune_rate_counters


class Command(BaseCommand):
    help = "检查留言答复期限：到期前提醒处理人，逾期上报领导和教育局。"

    def handle(self, *args, **options):
        result = check_deadlines()
        pruned = prune_rate_counters()
        self.stdout.write(f"提醒 {result.warned} 条，上报逾期 {result.escalated} 条；"
                          f"清理过期的频率计数 {pruned} 条。")
