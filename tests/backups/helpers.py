"""Running the backup command as its users do."""

import io
import json

from django.core.management import call_command


def run(*args, command: str = "backup") -> tuple[int, str]:
    """(exit code, stdout) of ``manage.py <command> *args``."""
    out = io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=io.StringIO())
        return 0, out.getvalue()
    except SystemExit as exit_:
        return exit_.code, out.getvalue()


def listing(*extra) -> list:
    return json.loads(run("list", "--format", "json", *extra)[1])
