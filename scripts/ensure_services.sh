#!/usr/bin/env bash
# Make sure PostgreSQL and Redis are reachable. Uses DATABASE_URL / REDIS_URL (or HUB_*) when set,
# otherwise the local servers on their standard ports; starts them if installed but stopped, and
# says exactly what to install when they are missing.
set -euo pipefail

db_url="${HUB_DATABASE_URL:-${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/hub}}"
redis_url="${HUB_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379/0}}"

hostport() {  # scheme://user:pass@host:port/db -> "host port"
  local rest="${1#*://}"; rest="${rest##*@}"; rest="${rest%%/*}"; rest="${rest%%\?*}"
  local host="${rest%%:*}" port="${rest##*:}"
  [ "$port" = "$rest" ] && port="$2"
  echo "$host" "$port"
}

reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 50); do reachable "$1" "$2" && return 0; sleep 0.2; done
  return 1
}

read -r pg_host pg_port < <(hostport "$db_url" 5432)
read -r rd_host rd_port < <(hostport "$redis_url" 6379)
local_host() { [ "$1" = "127.0.0.1" ] || [ "$1" = "localhost" ] || [ "$1" = "::1" ]; }

if ! reachable "$pg_host" "$pg_port"; then
  if local_host "$pg_host" && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start || true
    done
  elif local_host "$pg_host" && command -v pg_ctl >/dev/null 2>&1 && [ -n "${PGDATA:-}" ]; then
    pg_ctl -D "$PGDATA" -l "$PGDATA/server.log" start
  else
    echo "ensure-services: PostgreSQL is not reachable at $pg_host:$pg_port and is not installed here." >&2
    echo "  Install it (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@15)," >&2
    echo "  or set DATABASE_URL=postgresql://user:pass@host:5432/hub to a server you have." >&2
    exit 1
  fi
  wait_for "$pg_host" "$pg_port" || { echo "ensure-services: PostgreSQL did not come up on $pg_host:$pg_port" >&2; exit 1; }
fi

if ! reachable "$rd_host" "$rd_port"; then
  if local_host "$rd_host" && command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: starting Redis"
    mkdir -p /tmp/hub-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$rd_port" --save "" --appendonly no \
      --dir /tmp/hub-redis --logfile /tmp/hub-redis/redis.log
  else
    echo "ensure-services: Redis is not reachable at $rd_host:$rd_port and is not installed here." >&2
    echo "  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)," >&2
    echo "  or set REDIS_URL=redis://host:6379/0 to a server you have." >&2
    exit 1
  fi
  wait_for "$rd_host" "$rd_port" || { echo "ensure-services: Redis did not come up on $rd_host:$rd_port" >&2; exit 1; }
fi

echo "ensure-services: PostgreSQL $pg_host:$pg_port and Redis $rd_host:$rd_port are reachable"
