#!/usr/bin/env bash
# The AppHost's PostgreSQL when no container engine answers: the local server binaries, data kept in a
# git-ignored folder, run as the 'postgres' user when started as root (PostgreSQL refuses to run as root).
# Usage: run-local.sh DATA_DIR PORT
set -euo pipefail
data="$1"
port="$2"

bin=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "${bin}/initdb" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ ! -x "${bin}/initdb" ]; then
  echo "No PostgreSQL server binaries found: install PostgreSQL (apt-get install postgresql) or a container engine." >&2
  exit 1
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
  as_owner=(runuser -u postgres --)
fi

mkdir -p "$data"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$data"
  chmod 700 "$data"
fi

if [ ! -f "$data/PG_VERSION" ]; then
  "${as_owner[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-instructions
  echo "CREATE DATABASE depin;" | "${as_owner[@]}" "$bin/postgres" --single -D "$data" postgres >/dev/null
fi

exec "${as_owner[@]}" "$bin/postgres" -D "$data" -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories=''
