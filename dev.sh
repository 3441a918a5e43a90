#!/usr/bin/env bash
# One-command set-up for developers and CI.
#   ./dev.sh start   install into .venv, migrate, build the demo if the database is empty,
#                    and serve http://127.0.0.1:8000 (state under $CMS_DATA_DIR, default ./var/)
#   ./dev.sh test    install with the test extra and run the whole suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$1"
}

# The browser tests drive the system's Chromium (Debian's package) with a virtual
# authenticator; install it where we can (root with apt), else those tests are skipped.
install_browser() {
  if command -v chromium >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and CJK fonts for the browser tests" >&2
    apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk >/dev/null \
      || { apt-get update -q >/dev/null && \
           apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk >/dev/null; }
  else
    echo "chromium not found: the browser tests will be skipped" >&2
  fi
}

case "${1:-}" in
  start)
    install ""
    "$VENV/bin/python" manage.py migrate --no-input -v0
    "$VENV/bin/python" manage.py demo --if-empty
    exec "$VENV/bin/python" manage.py runserver 127.0.0.1:8000
    ;;
  test)
    shift
    install "[test]"
    install_browser
    exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
