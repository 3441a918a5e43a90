"""Settings: the state directory, DATABASE_URL, production's refusal without a secret key."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.shared import engine_independent

ROOT = Path(__file__).resolve().parents[2]
# Each test reads settings in a new process, given its own environment and no DATABASE_URL.
pytestmark = engine_independent


def run_settings(module: str, env: dict[str, str], expr: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DJANGO_SECRET_KEY", "DATABASE_URL", "CMS_DATA_DIR",
                          "DJANGO_ALLOWED_HOSTS"}}
    code = ("import django, json; from django.conf import settings; django.setup(); "
            f"print(json.dumps({expr}, default=str))")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
    )


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_all_state_lives_under_cms_data_dir(tmp_path):
    result = run_settings("cms.settings.dev", {"CMS_DATA_DIR": str(tmp_path)},
                          "[settings.DATABASES['default']['NAME'], settings.MEDIA_ROOT]")
    assert result.returncode == 0, result.stderr
    database, media = json.loads(result.stdout)
    assert Path(database).parent == tmp_path
    assert Path(media).parent == tmp_path


def test_database_url_selects_the_database(tmp_path):
    result = run_settings(
        "cms.settings.dev",
        {"CMS_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db.example:5433/cms"},
        "settings.DATABASES['default']",
    )
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.example", 5433, "cms")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_settings("cms.settings.production",
                          {"CMS_DATA_DIR": str(tmp_path), "DJANGO_ALLOWED_HOSTS": "edu.example"},
                          "settings.DEBUG")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key(tmp_path):
    result = run_settings(
        "cms.settings.production",
        {"CMS_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "x" * 50,
         "DJANGO_ALLOWED_HOSTS": "edu.example"},
        "[settings.DEBUG, settings.SESSION_COOKIE_SECURE]",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, True]


def test_production_shares_its_cache_in_redis(tmp_path):
    """Throttles count across gunicorn workers: production's cache is Redis, for real."""
    result = run_settings(
        "cms.settings.production",
        {"CMS_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "x" * 50,
         "DJANGO_ALLOWED_HOSTS": "edu.example", "CMS_CACHE_LOCATION": "redis://127.0.0.1:6379/3"},
        "[settings.CACHES['default']['BACKEND'],"
        " __import__('django.core.cache', fromlist=['cache']).cache.set('cms-test-shared', 1, 5)]",
    )
    assert result.returncode == 0, result.stderr
    backend, _ = json.loads(result.stdout)
    assert backend == "django.core.cache.backends.redis.RedisCache"
    import redis

    assert redis.Redis.from_url("redis://127.0.0.1:6379/3").exists(":1:cms-test-shared")


def test_development_mail_goes_to_files_not_the_console(tmp_path):
    """The demo's first build e-mails every workflow step: printed, some 6,500 lines buried
    the accounts table (issue 18, finding 8)."""
    result = run_settings("cms.settings.dev", {"CMS_DATA_DIR": str(tmp_path)},
                          "[settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH]")
    assert result.returncode == 0, result.stderr
    backend, path = json.loads(result.stdout)
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert Path(path) == tmp_path / "mail"
