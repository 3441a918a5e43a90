"""Tasks for the queue's tests (importable by the worker processes they start)."""

import os
import time

from django_tasks import task


@task()
def slow_marker(path: str, seconds: float) -> str:
    """Appends "start <pid>", sleeps, appends "done <pid>": a task to kill a worker in."""
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"start {os.getpid()}\n")
    time.sleep(seconds)
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"done {os.getpid()}\n")
    return "done"


@task()
def trivial(n: int) -> int:
    return n


@task()
def failing(message: str) -> None:
    raise ValueError(message)
