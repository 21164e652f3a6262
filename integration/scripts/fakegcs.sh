#!/usr/bin/env bash
# fakegcs.sh: a throwaway Google Cloud Storage emulator (fake-gcs-server, in memory) for the GCS integration
# tests.
#
#   integration/scripts/fakegcs.sh install  # builds the pinned fake-gcs-server into the cache dir (once)
#   integration/scripts/fakegcs.sh start    # installs if needed and starts; idempotent; waits until ready
#   integration/scripts/fakegcs.sh env      # prints the export line the tests read
#   integration/scripts/fakegcs.sh stop     # stops the server (its data lives in memory and is gone)
#
#   bash integration/scripts/fakegcs.sh start && eval "$(bash integration/scripts/fakegcs.sh env)"
#   go test ./integration/...
#
# The tests set STORAGE_EMULATOR_HOST from AUDITEXPORT_TEST_GCS_HOST themselves, only for the GCS tests, so
# nothing else in the shell is redirected to the emulator. -public-host must equal the host:port clients use,
# or the emulator answers reads with NotFound.
#
# Environment:
#   AUDITEXPORT_FAKEGCS_HOST           listen address (default 127.0.0.1)
#   AUDITEXPORT_FAKEGCS_PORT           TCP port (default 4443)
#   AUDITEXPORT_FAKEGCS_DIR            run directory for the pid file and log (default <repo>/integration/.run/fakegcs)
#   AUDITEXPORT_FAKEGCS_START_TIMEOUT  seconds to wait for the server to answer (default 30)
#   AUDITEXPORT_TEST_CACHE_DIR         where binaries are cached (default ~/.cache/auditexport-integration)
set -euo pipefail

NAME=fakegcs.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly PKG=github.com/fsouza/fake-gcs-server
readonly VERSION=v1.56.1

HOST="${AUDITEXPORT_FAKEGCS_HOST:-127.0.0.1}"
PORT="${AUDITEXPORT_FAKEGCS_PORT:-4443}"
RUN_DIR="${AUDITEXPORT_FAKEGCS_DIR:-$ROOT/integration/.run/fakegcs}"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"
START_TIMEOUT="${AUDITEXPORT_FAKEGCS_START_TIMEOUT:-30}"
SERVER_MATCH="fake-gcs-server"

cmd_install() { go_install_pinned "$PKG" "$VERSION" fake-gcs-server; }

# The JSON API answers a bucket listing once the server is up.
api_answers() { curl -sf -o /dev/null --max-time 2 "http://$HOST:$PORT/storage/v1/b"; }

cmd_start() {
	cmd_install
	if already_running "$HOST" "$PORT" AUDITEXPORT_FAKEGCS_PORT; then
		log "already running on $HOST:$PORT ($RUN_DIR)"
	else
		mkdir -p "$RUN_DIR/seed"
		# -data points at an empty directory of our own: the default (/data) could hold anything.
		launch "$BIN_DIR/fake-gcs-server" -scheme http -host "$HOST" -port "$PORT" -public-host "$HOST:$PORT" \
			-backend memory -data "$RUN_DIR/seed" -log-level warn
	fi
	wait_ready "$HOST" "$PORT" "$START_TIMEOUT" api_answers
	log "ready: http://$HOST:$PORT"
}

cmd_stop() {
	stop_server
	rm -rf "$RUN_DIR"
	log "stopped; removed $RUN_DIR"
}

cmd_env() {
	echo "export AUDITEXPORT_TEST_GCS_HOST='$HOST:$PORT'"
}

usage() {
	echo "usage: $0 install|start|stop|env" >&2
	exit 2
}

require_number AUDITEXPORT_FAKEGCS_PORT "$PORT" "a port number"
require_number AUDITEXPORT_FAKEGCS_START_TIMEOUT "$START_TIMEOUT" "whole seconds"

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*) usage ;;
esac
