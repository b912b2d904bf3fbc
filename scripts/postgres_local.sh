#!/usr/bin/env bash
# A throwaway local PostgreSQL for the second-engine test (tests/test_postgres_engine.py, issue 14):
# a fresh cluster in a temporary directory, listening on a unix socket only (no TCP), trust auth.
#
#   scripts/postgres_local.sh start   # prints `export MRS_PG_...=...` lines; eval them
#   scripts/postgres_local.sh stop    # stops the cluster named by $MRS_PG_DIR and deletes it
#
# Binaries: $MRS_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin (Debian's postgresql package),
# else PATH. initdb and postgres refuse to run as root, so as root the cluster runs as the
# unprivileged user $MRS_PG_OS_USER (default mrs_pg, created here when missing).
# Everything but the export lines goes to stderr.
set -euo pipefail

pg_bin() {
  if [[ -n "${MRS_PG_BIN:-}" ]]; then
    echo "$MRS_PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    echo "postgres_local.sh: no PostgreSQL binaries (install Debian's postgresql or set MRS_PG_BIN)" >&2
    exit 1
  fi
}

# Runs a command as the cluster's OS user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "$OS_USER" -- "$@"
  else
    "$@"
  fi
}

start() {
  local bin dir port
  bin=$(pg_bin)
  port="${MRS_PG_PORT:-5432}"
  OS_USER="${MRS_PG_OS_USER:-mrs_pg}"
  if [[ "$(id -u)" == 0 ]] && ! id "$OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  [[ "$(id -u)" == 0 ]] || OS_USER="$(id -un)"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/mrs_pg.XXXXXX")
  mkdir -p "$dir/data" "$dir/socket"
  [[ "$(id -u)" == 0 ]] && chown -R "$OS_USER" "$dir"
  as_owner "$bin/initdb" --pgdata="$dir/data" --username="$OS_USER" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  # Small and fast: no TCP, no durability (a throwaway test cluster).
  as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 \
    -o "-k $dir/socket -c listen_addresses='' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { cat "$dir/postgres.log" >&2; rm -rf "$dir"; exit 1; }
  as_owner "$bin/createdb" --host="$dir/socket" --port="$port" --username="$OS_USER" mrs >&2
  echo "postgres_local.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on socket $dir/socket port $port, database mrs, user $OS_USER" >&2
  cat <<EOF
export MRS_PG_DIR=$dir
export MRS_PG_HOST=$dir/socket
export MRS_PG_PORT=$port
export MRS_PG_USER=$OS_USER
export MRS_PG_DBNAME=mrs
EOF
}

stop() {
  local bin dir="${MRS_PG_DIR:-}"
  if [[ -z "$dir" || ! -d "$dir/data" ]]; then
    echo "postgres_local.sh: nothing to stop (MRS_PG_DIR unset or not a cluster)" >&2
    return 0
  fi
  bin=$(pg_bin)
  OS_USER=$(stat -c %U "$dir/data")
  as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
