#!/usr/bin/env bash
# One-command set-up for developers and CI.
#   ./dev.sh start   install into .venv, migrate, build the demo if the database is empty,
#                    and serve http://127.0.0.1:8000 (state under $CMS_DATA_DIR, default ./var/)
#                    with a queue worker and the scheduler; Ctrl-C stops all three
#   ./dev.sh serve   the same without installing (port: $CMS_PORT, default 8000)
#   ./dev.sh test    install with the test extra and run the whole suite (extra args go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$1"
}

# The browser tests drive the system's Chromium (Debian's package) with a virtual
# authenticator, and the nginx tests start Debian's nginx with the production configuration
# (deploy/nginx). Install what is missing where we can (root with apt), in one apt-get call;
# elsewhere those tests are skipped.
install_test_tools() {
  local packages=()
  command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-noto-cjk)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
  if [ ${#packages[@]} = 0 ]; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${packages[*]} for the browser and nginx tests" >&2
    apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && \
           apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; }
  else
    echo "${packages[*]} not found: the browser or nginx tests will be skipped" >&2
  fi
}

# The web server, a queue worker and the scheduler (cms.jobs), together: background work
# (re-rendering after a publication, rescans) and the periodic jobs (scheduled publication
# every minute, the daily checkpoint, backup...) run while the site does. Ctrl-C (or any one
# of them exiting) stops all three.
serve() {
  local python="$VENV/bin/python" port="${CMS_PORT:-8000}"
  "$python" manage.py migrate --no-input -v0
  "$python" manage.py demo --if-empty --port "$port"
  # Static publishing: catch up on publications made while nothing ran (incremental; the
  # first time, every site in full).
  "$python" manage.py bake
  local pids=()
  stop_all() {
    trap - INT TERM EXIT
    local pid
    for pid in "${pids[@]}"; do
      pkill -TERM -P "$pid" 2>/dev/null || true  # runserver's autoreloaded child
      kill -TERM "$pid" 2>/dev/null || true
    done
    wait || true
  }
  trap stop_all INT TERM EXIT
  case "${CMS_TASKS_BACKEND:-db}" in
    rq) "$python" manage.py rqworker default --worker-class rq.worker.SimpleWorker & pids+=($!) ;;
    *) "$python" manage.py db_worker --no-reload --interval 0.2 & pids+=($!) ;;
  esac
  "$python" manage.py scheduler & pids+=($!)
  "$python" manage.py runserver "127.0.0.1:$port" & pids+=($!)
  local status=0
  wait -n || status=$?
  echo "stopping the web server, the worker and the scheduler" >&2
  stop_all
  exit "$status"
}

case "${1:-}" in
  start)
    install ""
    serve
    ;;
  serve)
    serve
    ;;
  test)
    shift
    install "[test]"
    install_test_tools
    # The suite starts about a hundred manage.py processes and collects in every worker:
    # without cached bytecode each of them compiles the project's modules again (collection
    # takes 23 s instead of 13), so an environment that turns the cache off is overruled here.
    unset PYTHONDONTWRITEBYTECODE
    exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh serve | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
