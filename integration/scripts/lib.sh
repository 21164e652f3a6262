# lib.sh: helpers shared by the server scripts (versitygw.sh, fakegcs.sh, azurite.sh). Sourced, never run.
#
# A script sets NAME (its log prefix, e.g. "versitygw.sh"), RUN_DIR (where it keeps the server's pid file, log
# and data) and SERVER_MATCH (a string of the server's command line) before calling these. The server runs in
# the background in its own process group; its pid is kept in $RUN_DIR/server.pid and its output in
# $RUN_DIR/server.log.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Installed server binaries are cached outside the checkout, so every clone on
# a machine (CI clones afresh each time) reuses them; versions are pinned and
# checked before each use.
if [[ -n "${AUDITEXPORT_TEST_CACHE_DIR:-}" ]]; then
	CACHE_DIR="$AUDITEXPORT_TEST_CACHE_DIR"
elif [[ -n "${HOME:-}" && -d "$HOME" && -w "$HOME" ]]; then
	CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/auditexport-integration"
else
	CACHE_DIR="$ROOT/integration/.cache"
fi
[[ "$CACHE_DIR" == /* ]] || CACHE_DIR="$PWD/$CACHE_DIR"
BIN_DIR="$CACHE_DIR/bin"

log() { echo "$NAME: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# require_number VAR VALUE WHAT: refuses anything but digits.
require_number() {
	[[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be $3, got \"$2\""
}

# go_install_pinned PACKAGE VERSION BINARY: installs PACKAGE@VERSION into $BIN_DIR unless $BIN_DIR/BINARY was
# already built from exactly that version (as recorded in the binary's build info). Runs outside the project's
# module (GOWORK=off, from a temporary directory, GOFLAGS without -mod) so the project's go.mod is never read
# or written.
go_install_pinned() {
	local pkg="$1" version="$2" binary="$3" have tmp start
	command -v go >/dev/null 2>&1 || die "go not found in PATH: install Go to build $pkg"
	if [[ -x "$BIN_DIR/$binary" ]]; then
		have="$(go version -m "$BIN_DIR/$binary" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')"
		if [[ "$have" == "$version" ]]; then
			return 0
		fi
		log "$BIN_DIR/$binary is ${have:-of unknown version}, want $version: reinstalling"
	fi
	mkdir -p "$BIN_DIR"
	tmp="$(mktemp -d)"
	start=$SECONDS
	log "installing $pkg@$version into $BIN_DIR (first use; a few minutes)"
	if ! (cd "$tmp" && GOWORK=off GOFLAGS= GOBIN="$BIN_DIR" go install "$pkg@$version") >"$tmp/install.log" 2>&1; then
		tail -n 40 "$tmp/install.log" >&2 || true
		rm -rf "$tmp"
		die "go install $pkg@$version failed"
	fi
	rm -rf "$tmp"
	log "installed $binary $version in $((SECONDS - start))s"
}

pid_file() { echo "$RUN_DIR/server.pid"; }
log_file() { echo "$RUN_DIR/server.log"; }

# server_pid prints the pid of the running server, or fails. Where /proc is available, the process must still
# be the server (its command line holds $SERVER_MATCH), so a recycled pid is never taken for it, nor signalled.
server_pid() {
	local pid
	[[ -f "$(pid_file)" ]] || return 1
	pid="$(cat "$(pid_file)")"
	[[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r "/proc/$pid/cmdline" ]]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$SERVER_MATCH" || return 1
	fi
	echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

log_tail() {
	if [[ -f "$(log_file)" ]]; then
		log "last lines of $(log_file):"
		tail -n 40 "$(log_file)" | sed -e '$a\' >&2 || true
	fi
}

# launch CMD...: starts CMD in the background in a new session (so stop can signal the whole group), working
# in $RUN_DIR (whatever it writes to its working directory stays there), with its output in the log file, and
# records its pid. The caller's environment is inherited.
launch() {
	mkdir -p "$RUN_DIR"
	: >"$(log_file)"
	(cd "$RUN_DIR" && exec setsid "$@" </dev/null >>"$(log_file)" 2>&1) &
	echo $! >"$(pid_file)"
}

# wait_ready HOST PORT TIMEOUT [PROBE...]: waits until the server's port accepts connections and, when given,
# PROBE succeeds; fails with the log's tail if the server exits or the timeout passes.
wait_ready() {
	local host="$1" port="$2" timeout="$3"
	shift 3
	local deadline=$((SECONDS + timeout))
	while :; do
		if port_open "$host" "$port" && { (($# == 0)) || "$@" >/dev/null 2>&1; }; then
			return 0
		fi
		# The launched pid, alive: until its exec it is still a shell, whose
		# command line server_pid would not recognise.
		if ! kill -0 "$(cat "$(pid_file)" 2>/dev/null)" 2>/dev/null; then
			log_tail
			die "the server exited while starting (port $host:$port)"
		fi
		if ((SECONDS >= deadline)); then
			log_tail
			stop_server
			die "the server did not answer on $host:$port within ${timeout}s"
		fi
		sleep 0.2
	done
}

# stop_server: sends SIGTERM to the server's process group, then SIGKILL after 10 s.
stop_server() {
	local pid i
	pid="$(server_pid)" || {
		rm -f "$(pid_file)"
		return 0
	}
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop after SIGTERM: sending SIGKILL"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$(pid_file)"
}

# already_running HOST PORT PORT_VAR: returns 0 when the server is already running (nothing to do), 1 when it must
# be started; dies when another process holds the port.
already_running() {
	local host="$1" port="$2" port_var="$3"
	if server_pid >/dev/null; then
		return 0
	fi
	rm -f "$(pid_file)"
	if port_open "$host" "$port"; then
		die "port $host:$port is already in use by another process: stop it or set $port_var"
	fi
	return 1
}
