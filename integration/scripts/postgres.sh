#!/usr/bin/env bash
# postgres.sh: a throwaway PostgreSQL 15 cluster for the PostgreSQL source tests.
#
#   integration/scripts/postgres.sh start   # init (first time) and start; idempotent; waits until ready
#   integration/scripts/postgres.sh env     # prints the export line the tests read
#   integration/scripts/postgres.sh stop    # stops the server and removes its data directory
#
#   bash integration/scripts/postgres.sh start && eval "$(bash integration/scripts/postgres.sh env)"
#   go test ./exporter/source/...
#
# The cluster lives in integration/.run/postgres (git-ignored), listens on 127.0.0.1 only, trusts every local
# connection and runs with fsync off: test data only, never anything worth keeping. Works as root (the server
# runs as the postgres user through runuser) and as a normal user. As root, when the postgres user cannot
# reach the checkout (a clone in a home directory or under mktemp -d, whose parents it may not traverse), the
# cluster lives in /tmp/auditexport-postgres/<hash of the checkout's path> instead, one per checkout; start,
# env and stop find it the same way. Installs Debian's postgresql package with apt-get only when initdb
# cannot be found.
#
# Environment:
#   AUDITEXPORT_POSTGRES_PORT           TCP port (default 54329)
#   AUDITEXPORT_POSTGRES_DIR            cluster directory (default <repo>/integration/.run/postgres, or the
#                                       /tmp one above)
#   AUDITEXPORT_POSTGRES_START_TIMEOUT  seconds to wait for the server to accept connections (default 30)
#   AUDITEXPORT_POSTGRES_BINDIR         directory holding initdb, pg_ctl, pg_isready, psql (default: found)
set -euo pipefail

readonly PG_MAJOR=15
readonly DB_NAME=auditexport
readonly DB_USER=postgres
readonly HOST=127.0.0.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${AUDITEXPORT_POSTGRES_PORT:-54329}"
START_TIMEOUT="${AUDITEXPORT_POSTGRES_START_TIMEOUT:-30}"
# The parent of the per-checkout cluster directories of a root run whose checkout the postgres user cannot
# reach; /tmp is traversable by every user.
readonly FALLBACK_BASE=/tmp/auditexport-postgres

# Our own client calls name host, port, user and database explicitly; libpq environment variables from the
# caller's shell must not redirect them.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE PGOPTIONS \
	PGSSLMODE PGDATA PGTZ

log() { echo "postgres.sh: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

ensure_user() {
	id -u "$DB_USER" >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$DB_USER"
}

# resolve_run_dir sets RUN_DIR: AUDITEXPORT_POSTGRES_DIR when set; else integration/.run/postgres in the
# checkout, unless we are root and the postgres user, which runs the server, cannot traverse the checkout's
# path (only the checkout's own directory is checked: integration/.run is created traversable); then a
# directory of this checkout's own under $FALLBACK_BASE.
resolve_run_dir() {
	if [[ -n "${AUDITEXPORT_POSTGRES_DIR:-}" ]]; then
		RUN_DIR="$AUDITEXPORT_POSTGRES_DIR"
		[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR" # server commands run from /
	elif ! is_root; then
		RUN_DIR="$ROOT/integration/.run/postgres"
	else
		ensure_user
		if runuser -u "$DB_USER" -- test -x "$ROOT/integration"; then
			RUN_DIR="$ROOT/integration/.run/postgres"
		else
			RUN_DIR="$FALLBACK_BASE/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
			FALLBACK=1
		fi
	fi
	DATA_DIR="$RUN_DIR/data"
	LOG_FILE="$RUN_DIR/postgres.log"
}
FALLBACK=0
RUN_DIR=""
DATA_DIR=""
LOG_FILE=""

find_bindir() {
	local dir
	for dir in "${AUDITEXPORT_POSTGRES_BINDIR:-}" "/usr/lib/postgresql/$PG_MAJOR/bin"; do
		if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
			echo "$dir"
			return 0
		fi
	done
	if command -v pg_config >/dev/null 2>&1; then
		dir="$(pg_config --bindir 2>/dev/null || true)"
		if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
			echo "$dir"
			return 0
		fi
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

install_postgres() {
	local -a apt=(apt-get)
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
			die "initdb not found and not root: install PostgreSQL $PG_MAJOR (apt-get install postgresql) or set AUDITEXPORT_POSTGRES_BINDIR"
		apt=(sudo -n apt-get)
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "initdb not found and apt-get is unavailable: install PostgreSQL $PG_MAJOR or set AUDITEXPORT_POSTGRES_BINDIR"
	log "initdb not found: installing postgresql with apt-get"
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends postgresql >&2 || {
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends postgresql >&2
	}
}

BINDIR=""
resolve_bindir() {
	if ! BINDIR="$(find_bindir)"; then
		install_postgres
		BINDIR="$(find_bindir)" || die "postgresql installed but initdb still not found"
	fi
}

# Run a server-side program: as root through runuser as the postgres user (initdb and postgres refuse to run
# as root), otherwise as the caller. Runs from / so the postgres user never needs the caller's directory.
as_owner() {
	if is_root; then
		(cd / && runuser -u "$DB_USER" -- "$@")
	else
		(cd / && "$@")
	fi
}

client() { "$BINDIR/$1" "${@:2}"; }

server_running() {
	[[ -f "$DATA_DIR/PG_VERSION" ]] && as_owner "$BINDIR/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

log_tail() {
	if [[ -f "$LOG_FILE" ]]; then
		log "last lines of $LOG_FILE:"
		tail -n 40 "$LOG_FILE" >&2 || true
	fi
}

prepare_dir() {
	if ((FALLBACK)); then
		# Root's own directory in a world-writable /tmp: refuse one that someone else made or that is a link.
		mkdir -p -m 755 "$FALLBACK_BASE"
		if [[ -L "$FALLBACK_BASE" || ! -d "$FALLBACK_BASE" || "$(stat -c %u "$FALLBACK_BASE")" != 0 ]]; then
			die "$FALLBACK_BASE is not a directory of root's: remove it, or set AUDITEXPORT_POSTGRES_DIR"
		fi
		log "user $DB_USER cannot reach $ROOT: the cluster lives in $RUN_DIR"
	fi
	mkdir -p "$RUN_DIR"
	if is_root; then
		ensure_user
		chown -R "$DB_USER:" "$RUN_DIR"
		runuser -u "$DB_USER" -- test -w "$RUN_DIR" ||
			die "user $DB_USER cannot write $RUN_DIR: make its parent directories traversable (chmod o+x) or set AUDITEXPORT_POSTGRES_DIR"
	fi
	chmod 700 "$RUN_DIR"
}

init_cluster() {
	# A directory left half-initialised by an interrupted run is useless: start over.
	if [[ -d "$DATA_DIR" && ! -f "$DATA_DIR/PG_VERSION" ]]; then
		rm -rf "$DATA_DIR"
	fi
	[[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
	log "initialising a PostgreSQL cluster in $DATA_DIR"
	if ! as_owner "$BINDIR/initdb" -D "$DATA_DIR" -U "$DB_USER" -A trust -E UTF8 --locale=C --no-sync \
		>"$RUN_DIR/initdb.log" 2>&1; then
		tail -n 40 "$RUN_DIR/initdb.log" >&2 || true
		die "initdb failed (full output in $RUN_DIR/initdb.log)"
	fi
	# Test settings: loopback only, no Unix socket (its default directory may not be writable), no durability.
	cat >>"$DATA_DIR/postgresql.conf" <<-'EOF'

		# integration/scripts/postgres.sh: a throwaway test cluster
		listen_addresses = '127.0.0.1'
		unix_socket_directories = ''
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 100
		# not UTC on purpose: the source must not depend on the server's zone
		timezone = 'America/New_York'
	EOF
	if is_root; then
		chown "$DB_USER:" "$DATA_DIR/postgresql.conf"
	fi
}

port_in_use() {
	# pg_isready succeeds or reports "rejecting" when something PostgreSQL-like answers; a bash /dev/tcp probe
	# catches any other listener.
	(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

wait_ready() {
	local deadline=$((SECONDS + START_TIMEOUT))
	until client pg_isready -q -h "$HOST" -p "$PORT" -U "$DB_USER" -d postgres -t 1; do
		if ((SECONDS >= deadline)); then
			log_tail
			die "PostgreSQL did not accept connections on $HOST:$PORT within ${START_TIMEOUT}s"
		fi
		if ! server_running; then
			log_tail
			die "PostgreSQL exited while starting (port $HOST:$PORT)"
		fi
		sleep 0.2
	done
}

ensure_database() {
	local exists
	exists="$(client psql -X -q -t -A -h "$HOST" -p "$PORT" -U "$DB_USER" -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ||
		die "cannot query PostgreSQL on $HOST:$PORT"
	if [[ "$exists" != "1" ]]; then
		client createdb -h "$HOST" -p "$PORT" -U "$DB_USER" "$DB_NAME" || die "createdb $DB_NAME failed"
	fi
}

cmd_start() {
	resolve_bindir
	prepare_dir
	init_cluster
	if server_running; then
		log "already running on $HOST:$PORT ($DATA_DIR)"
	else
		if port_in_use; then
			die "port $HOST:$PORT is already in use by another process: stop it or set AUDITEXPORT_POSTGRES_PORT"
		fi
		# A postmaster.pid left by a killed server is handled by postgres itself.
		if ! as_owner "$BINDIR/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -o "-p $PORT" -w -t "$START_TIMEOUT" \
			>/dev/null 2>"$RUN_DIR/pg_ctl.err"; then
			cat "$RUN_DIR/pg_ctl.err" >&2 || true
			log_tail
			die "pg_ctl start failed for $DATA_DIR on $HOST:$PORT"
		fi
	fi
	wait_ready
	ensure_database
	log "ready: postgres://$DB_USER@$HOST:$PORT/$DB_NAME"
}

cmd_stop() {
	if [[ -f "$DATA_DIR/PG_VERSION" ]]; then
		resolve_bindir
		if server_running; then
			as_owner "$BINDIR/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 30 >/dev/null ||
				die "pg_ctl stop failed for $DATA_DIR"
		fi
	fi
	rm -rf "$RUN_DIR"
	log "stopped; removed $RUN_DIR"
}

cmd_env() {
	# Quoted so that eval in any shell (zsh globs an unquoted "?") yields the URL unchanged.
	echo "export AUDITEXPORT_TEST_POSTGRES_DSN='postgres://$DB_USER@$HOST:$PORT/$DB_NAME?sslmode=disable'"
}

usage() {
	echo "usage: $0 start|stop|env" >&2
	exit 2
}

[[ "$PORT" =~ ^[0-9]+$ ]] || die "AUDITEXPORT_POSTGRES_PORT must be a port number, got \"$PORT\""
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "AUDITEXPORT_POSTGRES_START_TIMEOUT must be whole seconds, got \"$START_TIMEOUT\""
resolve_run_dir

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*) usage ;;
esac
