"""A job for the scheduler's crash tests: appends one line per run to a file."""

import os
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "测试用：每运行一次，在文件末尾追加一行。"

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {time.time()}\n")
