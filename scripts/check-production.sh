#!/usr/bin/env bash
# The README's production steps, in a venv built from requirements.txt alone (CI runs this):
# migrate, start gunicorn, answer /healthz and a signed webhook message, stop on SIGTERM with
# exit 0 and no redis-server left. The dev requirements once hid a missing runtime package.
# With REDIS_URL (or a Redis on 127.0.0.1:6379) it also starts three workers at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
gunicorn_pid=""
cleanup() {
  [ -n "$gunicorn_pid" ] && kill -9 "$gunicorn_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "production check: venv from requirements.txt alone"
python3 -m venv "$work/venv"
if ! "$work/venv/bin/python" -m pip install --quiet -r requirements.txt >"$work/pip.log" 2>&1; then
  cat "$work/pip.log" >&2
  exit 1
fi
py="$work/venv/bin/python"

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A real account's variables (the API is never reached: nothing is sent at start).
export WECHAT_TOKEN=checktoken WECHAT_APP_ID=wx0123456789abcdef WECHAT_APP_SECRET=checksecret
export WECHAT_API_BASE=http://127.0.0.1:9 ADMIN_PASSWORD='Pr0duction-Check-7c1e'
unset DATABASE_URL

# run NAME WORKERS [REDIS_URL]: migrate, start, probe, SIGTERM
run() {
  local name=$1 workers=$2 redis_url=${3:-}
  local data="$work/$name" port
  port=$(free_port)
  mkdir -p "$data"
  echo "production check ($name): migrate, gunicorn -w $workers, /healthz, a message, SIGTERM"
  (
    export BOT_DATA_DIR="$data" PORT="$port"
    if [ -n "$redis_url" ]; then export REDIS_URL="$redis_url"; else unset REDIS_URL; fi
    "$py" -m bot migrate
    exec "$work/venv/bin/gunicorn" -w "$workers" bot.wsgi:app
  ) >"$data/out.log" 2>&1 &
  gunicorn_pid=$!
  "$py" "$root/scripts/probe_webhook.py" "http://127.0.0.1:$port" || {
    cat "$data/out.log" >&2
    exit 1
  }
  kill -TERM "$gunicorn_pid"
  local status=0
  wait "$gunicorn_pid" || status=$?
  gunicorn_pid=""
  if [ "$status" -ne 0 ]; then
    echo "production check ($name): gunicorn exited $status after SIGTERM" >&2
    cat "$data/out.log" >&2
    exit 1
  fi
  if grep -q Traceback "$data/out.log"; then
    echo "production check ($name): a traceback in the log" >&2
    cat "$data/out.log" >&2
    exit 1
  fi
  local pid
  for pid in $(grep -oE "embedded redis-server pid [0-9]+" "$data/out.log" | grep -oE "[0-9]+$"); do
    # gone, or only a zombie its parent (init here) has not reaped yet
    if [ -e "/proc/$pid" ] && ! grep -qE '^[0-9]+ \(.*\) [ZX] ' "/proc/$pid/stat" 2>/dev/null; then
      echo "production check ($name): the embedded redis-server $pid was left running" >&2
      exit 1
    fi
  done
  echo "production check ($name): ok"
}

run embedded 1
redis_url=${REDIS_URL:-}
if [ -z "$redis_url" ] && command -v redis-cli >/dev/null \
   && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis_url="redis://127.0.0.1:6379/14"
fi
# worker NAME REDIS_URL: the push sender (`python -m bot worker`) on the migrated database of
# run NAME, started and stopped with SIGTERM: exit 0, no traceback.
worker() {
  local name=$1 redis_url=$2 data="$work/$1" pid status=0
  echo "production check ($name): python -m bot worker, SIGTERM"
  (
    export BOT_DATA_DIR="$data" REDIS_URL="$redis_url" PUSH_WORKERS=rq
    exec "$py" -m bot worker
  ) >"$data/worker.log" 2>&1 &
  pid=$!
  sleep 4
  kill -TERM "$pid"
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ] || grep -q Traceback "$data/worker.log"; then
    echo "production check ($name): the worker exited $status after SIGTERM" >&2
    cat "$data/worker.log" >&2
    exit 1
  fi
  echo "production check ($name): worker ok"
}

if [ -n "$redis_url" ]; then
  run shared-redis 3 "$redis_url"
  worker shared-redis "$redis_url"
else
  echo "production check: no Redis server for the several-workers run; skipped"
fi
