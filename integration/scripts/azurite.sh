#!/usr/bin/env bash
# azurite.sh: a throwaway Azure Blob Storage emulator (Azurite's blob service, in memory) for the Azure
# integration tests.
#
#   integration/scripts/azurite.sh install  # npm-installs the pinned Azurite into the cache dir (once)
#   integration/scripts/azurite.sh start    # installs if needed and starts; idempotent; waits until ready
#   integration/scripts/azurite.sh env      # prints the export lines the tests read
#   integration/scripts/azurite.sh stop     # stops the server and removes its run directory
#
#   bash integration/scripts/azurite.sh start && eval "$(bash integration/scripts/azurite.sh env)"
#   go test ./integration/...
#
# The account and key are Azurite's built-in development account, published in Microsoft's documentation:
# not a secret. --skipApiVersionCheck is required because the Go SDK speaks a newer API version than Azurite
# knows. Needs Node.js (18 or later) and npm.
#
# Environment:
#   AUDITEXPORT_AZURITE_HOST           listen address (default 127.0.0.1)
#   AUDITEXPORT_AZURITE_PORT           blob service TCP port (default 10000)
#   AUDITEXPORT_AZURITE_DIR            run directory (default <repo>/integration/.run/azurite)
#   AUDITEXPORT_AZURITE_START_TIMEOUT  seconds to wait for the server to answer (default 30)
#   AUDITEXPORT_TEST_CACHE_DIR         where the npm package is cached (default ~/.cache/auditexport-integration)
set -euo pipefail

NAME=azurite.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly VERSION=3.37.0
readonly ACCOUNT=devstoreaccount1
# Azurite's well-known development key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
readonly ACCOUNT_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

HOST="${AUDITEXPORT_AZURITE_HOST:-127.0.0.1}"
PORT="${AUDITEXPORT_AZURITE_PORT:-10000}"
RUN_DIR="${AUDITEXPORT_AZURITE_DIR:-$ROOT/integration/.run/azurite}"
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"
START_TIMEOUT="${AUDITEXPORT_AZURITE_START_TIMEOUT:-30}"
SERVER_MATCH="azurite-blob"
PREFIX="$CACHE_DIR/azurite"
BLOB_BIN="$PREFIX/node_modules/.bin/azurite-blob"

installed_version() {
	node -p "require(process.argv[1]).version" "$PREFIX/node_modules/azurite/package.json" 2>/dev/null
}

cmd_install() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
		die "node and npm not found in PATH: install Node.js 18 or later (apt-get install nodejs npm)"
	if [[ -x "$BLOB_BIN" && "$(installed_version)" == "$VERSION" ]]; then
		return 0
	fi
	local start=$SECONDS
	mkdir -p "$PREFIX"
	log "installing azurite@$VERSION into $PREFIX (first use; about a minute)"
	if ! npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "azurite@$VERSION" \
		>"$PREFIX/npm-install.log" 2>&1; then
		tail -n 40 "$PREFIX/npm-install.log" >&2 || true
		die "npm install azurite@$VERSION failed (full output in $PREFIX/npm-install.log)"
	fi
	[[ -x "$BLOB_BIN" ]] || die "npm installed azurite@$VERSION but $BLOB_BIN is missing"
	log "installed azurite $VERSION in $((SECONDS - start))s"
}

# Any HTTP answer (an unsigned request gets 403) means the blob service serves requests.
http_answers() { curl -s -o /dev/null --max-time 2 "http://$HOST:$PORT/$ACCOUNT?comp=list"; }

cmd_start() {
	cmd_install
	if already_running "$HOST" "$PORT" AUDITEXPORT_AZURITE_PORT; then
		log "already running on $HOST:$PORT ($RUN_DIR)"
	else
		# AZURITE_ACCOUNTS in the caller's shell would replace the development account the tests use.
		unset AZURITE_ACCOUNTS
		# In memory: nothing is written to disk (Azurite refuses --location with --inMemoryPersistence), and
		# it runs in $RUN_DIR so nothing it might write lands elsewhere.
		launch "$BLOB_BIN" --blobHost "$HOST" --blobPort "$PORT" \
			--inMemoryPersistence --extentMemoryLimit 1024 --skipApiVersionCheck --disableTelemetry --silent
	fi
	wait_ready "$HOST" "$PORT" "$START_TIMEOUT" http_answers
	log "ready: http://$HOST:$PORT/$ACCOUNT"
}

cmd_stop() {
	stop_server
	rm -rf "$RUN_DIR"
	log "stopped; removed $RUN_DIR"
}

cmd_env() {
	echo "export AUDITEXPORT_TEST_AZURE_DOMAIN='$HOST:$PORT'"
	echo "export AZURE_STORAGE_ACCOUNT='$ACCOUNT'"
	echo "export AZURE_STORAGE_KEY='$ACCOUNT_KEY'"
}

usage() {
	echo "usage: $0 install|start|stop|env" >&2
	exit 2
}

require_number AUDITEXPORT_AZURITE_PORT "$PORT" "a port number"
require_number AUDITEXPORT_AZURITE_START_TIMEOUT "$START_TIMEOUT" "whole seconds"

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*) usage ;;
esac
