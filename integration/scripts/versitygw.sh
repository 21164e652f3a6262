#!/usr/bin/env bash
# versitygw.sh: a throwaway S3 server (versitygw, posix backend) for the S3 integration tests.
#
#   integration/scripts/versitygw.sh install  # builds the pinned versitygw into the cache dir (once)
#   integration/scripts/versitygw.sh start    # installs if needed and starts; idempotent; waits until ready
#   integration/scripts/versitygw.sh env      # prints the export lines the tests read
#   integration/scripts/versitygw.sh stop     # stops the server and removes its data directory
#
#   bash integration/scripts/versitygw.sh start && eval "$(bash integration/scripts/versitygw.sh env)"
#   go test ./integration/...
#
# versitygw enforces SigV4 and behaves like AWS where it matters here (multipart ETags, If-None-Match -> 412).
# Objects live in integration/.run/versitygw/data (git-ignored). The root access key is a fixed test name and
# the secret is random per start (kept in integration/.run/versitygw/credentials): test data only, nothing
# worth keeping.
#
# Environment:
#   AUDITEXPORT_VERSITYGW_HOST           listen address (default 127.0.0.1)
#   AUDITEXPORT_VERSITYGW_PORT           TCP port (default 7070)
#   AUDITEXPORT_VERSITYGW_DIR            run directory (default <repo>/integration/.run/versitygw)
#   AUDITEXPORT_VERSITYGW_START_TIMEOUT  seconds to wait for the server to answer (default 30)
#   AUDITEXPORT_TEST_CACHE_DIR           where binaries are cached (default ~/.cache/auditexport-integration)
set -euo pipefail

NAME=versitygw.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly PKG=github.com/versity/versitygw/cmd/versitygw
readonly VERSION=v1.8.0
readonly ACCESS_KEY=auditexport-test
readonly REGION=us-east-1

HOST="${AUDITEXPORT_VERSITYGW_HOST:-127.0.0.1}"
PORT="${AUDITEXPORT_VERSITYGW_PORT:-7070}"
RUN_DIR="${AUDITEXPORT_VERSITYGW_DIR:-$ROOT/integration/.run/versitygw}"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"
START_TIMEOUT="${AUDITEXPORT_VERSITYGW_START_TIMEOUT:-30}"
SERVER_MATCH="versitygw"
CRED_FILE="$RUN_DIR/credentials"

cmd_install() { go_install_pinned "$PKG" "$VERSION" versitygw; }

# Any HTTP answer (an unauthenticated request gets 403) means the gateway serves requests.
http_answers() { curl -s -o /dev/null --max-time 2 "http://$HOST:$PORT/"; }

cmd_start() {
	cmd_install
	if already_running "$HOST" "$PORT" AUDITEXPORT_VERSITYGW_PORT; then
		log "already running on $HOST:$PORT ($RUN_DIR)"
	else
		mkdir -p "$RUN_DIR/data"
		chmod 700 "$RUN_DIR"
		local secret
		secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		(umask 077 && echo "$secret" >"$CRED_FILE")
		# versitygw reads every global option from VGW_* (and the keys from two names each): settings from the
		# caller's shell must not change the test server. The keys go through the environment, not argv, so ps
		# does not show the secret.
		local v
		for v in $(compgen -e | grep -E '^(VGW_|ROOT_ACCESS_KEY|ROOT_SECRET)' || true); do
			unset "$v"
		done
		ROOT_ACCESS_KEY_ID="$ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$secret" \
			launch "$BIN_DIR/versitygw" --port "$HOST:$PORT" --region "$REGION" --quiet posix "$RUN_DIR/data"
	fi
	wait_ready "$HOST" "$PORT" "$START_TIMEOUT" http_answers
	log "ready: http://$HOST:$PORT (access key $ACCESS_KEY)"
}

cmd_stop() {
	stop_server
	rm -rf "$RUN_DIR"
	log "stopped; removed $RUN_DIR"
}

cmd_env() {
	[[ -f "$CRED_FILE" ]] || die "not started ($CRED_FILE missing): run bash integration/scripts/versitygw.sh start"
	echo "export AUDITEXPORT_TEST_S3_ENDPOINT='http://$HOST:$PORT'"
	echo "export AWS_ACCESS_KEY_ID='$ACCESS_KEY'"
	echo "export AWS_SECRET_ACCESS_KEY='$(cat "$CRED_FILE")'"
	echo "export AWS_REGION='$REGION'"
}

usage() {
	echo "usage: $0 install|start|stop|env" >&2
	exit 2
}

require_number AUDITEXPORT_VERSITYGW_PORT "$PORT" "a port number"
require_number AUDITEXPORT_VERSITYGW_START_TIMEOUT "$START_TIMEOUT" "whole seconds"

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*) usage ;;
esac
