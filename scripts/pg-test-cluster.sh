#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own temp dir, a CA and a server certificate for
# localhost/127.0.0.1, TLS on, SCRAM-SHA-256 for every TCP connection, listening on 127.0.0.1 only.
#
#   eval "$(scripts/pg-test-cluster.sh start)"     # prints export lines, nothing else on stdout
#   scripts/pg-test-cluster.sh stop [dir]          # dir defaults to $PG_TEST_CLUSTER_DIR
#
# Roles: pgtest (owner of database pgtest, any TCP connection) and pgtest_tls (TLS only: a cleartext
# connection is rejected by pg_hba), both with the same generated password, which holds URL-special
# characters so the tests also prove percent-decoding. Run as root, server commands drop to the
# postgres user; run as anyone else, they run as that user.
set -euo pipefail

log() { echo "pg-test-cluster: $*" >&2; }

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)"
    exit 1
  fi
  echo "$bin"
}

# A port nothing listens on, from bash alone: a refused connection means free.
free_port() {
  local port
  for port in $(seq 54329 54429); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  log "no free port in 54329-54429"
  exit 1
}

make_certificates() {
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pg-test-cluster CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  rm -f "$dir/ca.key" "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
  chmod 644 "$dir/ca.crt" "$dir/server.crt"
  chmod 600 "$dir/server.key"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/server.key" "$dir/server.crt"; fi
}

# Set by start() for its EXIT trap, which runs after start()'s locals are gone.
STARTING_BIN=''
STARTING_DIR=''
abandon_start() {
  if [ -n "$STARTING_DIR" ]; then
    as_server_user "$STARTING_BIN/pg_ctl" -D "$STARTING_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$STARTING_DIR"
    log "start failed; removed $STARTING_DIR"
  fi
}

start() {
  local bin dir port password encoded
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pg-test-cluster.XXXXXX")
  # Whatever step fails, nothing is left running or on disk (cleared once the cluster is ready).
  STARTING_BIN=$bin
  STARTING_DIR=$dir
  trap abandon_start EXIT
  chmod 755 "$dir"
  mkdir "$dir/socket" "$dir/log"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/socket" "$dir/log"; fi
  port=$(free_port)
  local suffix
  suffix=$(openssl rand -hex 8)
  password="pw:@/%-$suffix"
  encoded="pw%3A%40%2F%25-$suffix"

  make_certificates "$dir"
  # The superuser has no password: the script reaches it over the Unix socket (peer).
  if [ "$(id -u)" = 0 ]; then
    install -d -o postgres -m 700 "$dir/data"
  fi
  as_server_user "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C \
    --auth-local=peer --auth-host=scram-sha-256 >"$dir/log/initdb.log" 2>&1

  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
password_encryption = 'scram-sha-256'
fsync = on
synchronous_commit = on
max_connections = 50
EOF
  # First match wins: pgtest_tls is rejected without TLS; everyone else needs SCRAM, with or without.
  cat >"$dir/data/pg_hba.conf" <<EOF
local     all  all                      peer
hostnossl all  pgtest_tls  127.0.0.1/32 reject
hostssl   all  all         127.0.0.1/32 scram-sha-256
host      all  all         127.0.0.1/32 scram-sha-256
EOF
  as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log/server.log" -w -t 30 start >/dev/null

  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U postgres)
  as_server_user "${psql[@]}" -d postgres >/dev/null <<EOF
CREATE ROLE pgtest LOGIN PASSWORD '$password';
CREATE ROLE pgtest_tls LOGIN PASSWORD '$password';
CREATE DATABASE pgtest OWNER pgtest;
EOF
  as_server_user "${psql[@]}" -d pgtest >/dev/null <<EOF
CREATE EXTENSION IF NOT EXISTS pg_trgm;
GRANT ALL ON SCHEMA public TO pgtest_tls;
EOF
  trap - EXIT
  STARTING_DIR=''

  local base="$encoded@127.0.0.1:$port/pgtest"
  echo "export PG_TEST_CLUSTER_DIR='$dir'"
  echo "export TEST_DATABASE_URL='postgres://pgtest:$base?sslmode=disable'"
  echo "export TEST_DATABASE_TLS_URL='postgres://pgtest:$encoded@localhost:$port/pgtest?sslmode=verify-full&sslrootcert=$dir/ca.crt'"
  echo "export TEST_DATABASE_TLS_ONLY_URL='postgres://pgtest_tls:$base?sslmode=require'"
  echo "export TEST_DATABASE_CA='$dir/ca.crt'"
  log "started PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port in $dir"
}

stop() {
  local dir=${1:-${PG_TEST_CLUSTER_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
    log "no cluster dir given (argument or PG_TEST_CLUSTER_DIR)"
    exit 1
  fi
  as_server_user "$(find_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start | stop [dir]" >&2
    exit 2
    ;;
esac
