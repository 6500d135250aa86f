#!/usr/bin/env bash
# Starts (once) the PostgreSQL server the tests use: a throwaway cluster on 127.0.0.1:54329 with
# trust authentication, under /tmp, owned by the `postgres` system user (PostgreSQL refuses to
# run as root). Prints the base URL; each test server creates its own database in it.
# Installs the postgresql package if missing.
set -euo pipefail
port=${TONEARM_TEST_PG_PORT:-54329}
dir=/tmp/tonearm-test-pg-$port
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "test-postgres: installing postgresql" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  fi
  # Tests only: no durability needed, so no fsync; enough connections for parallel tests.
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -o \
    "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port"
