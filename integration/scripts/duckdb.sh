#!/usr/bin/env bash
# duckdb.sh: the DuckDB SQL runner (integration/duckdb) that the ddl integration tests run the output of
# `auditexport ddl --engine duckdb` in, against archives the exporter wrote.
#
#   integration/scripts/duckdb.sh install  # builds integration/duckdb into the cache dir, unless cached from the same sources
#   integration/scripts/duckdb.sh env      # prints the export line the tests read
#
#   bash integration/scripts/duckdb.sh install && eval "$(bash integration/scripts/duckdb.sh env)"
#   go test ./integration/ -run DuckDB
#
# The runner is its own Go module linking DuckDB through github.com/duckdb/duckdb-go/v2 (cgo, with DuckDB's
# prebuilt static library from the Go module proxy), so the main module stays free of cgo. The first build
# downloads that library and links it (about a minute); the binary is then kept in the cache dir with the
# SHA-256 of the sources it was built from (go.mod, go.sum, *.go and the Go version), and rebuilt only when
# they change.
#
# Environment:
#   AUDITEXPORT_TEST_CACHE_DIR   where binaries are cached (default ~/.cache/auditexport-integration)
set -euo pipefail

NAME=duckdb.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="$ROOT/integration/duckdb"
BIN="$BIN_DIR/duckdb-sql"
STAMP="$BIN_DIR/duckdb-sql.sources"

sources_sum() {
	{
		go env GOVERSION
		cd "$SRC" && cat go.mod go.sum ./*.go
	} | sha256sum | cut -d' ' -f1
}

cmd_install() {
	local want start tmp
	command -v go >/dev/null 2>&1 || die "go not found in PATH: install Go to build the DuckDB runner"
	command -v "$(go env CC)" >/dev/null 2>&1 || die "no C compiler ($(go env CC)) to link DuckDB: apt-get install gcc g++"
	want="$(sources_sum)"
	if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && "$BIN" --version >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p "$BIN_DIR"
	tmp="$(mktemp -d)"
	start=$SECONDS
	log "building the DuckDB runner (integration/duckdb) into $BIN (first use: downloads DuckDB's static library, about a minute)"
	if ! (cd "$SRC" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=1 go build -trimpath -o "$tmp/duckdb-sql" .) >"$tmp/build.log" 2>&1; then
		tail -n 40 "$tmp/build.log" >&2 || true
		rm -rf "$tmp"
		die "go build integration/duckdb failed"
	fi
	mv "$tmp/duckdb-sql" "$BIN"
	rm -rf "$tmp"
	echo "$want" >"$STAMP"
	log "built $("$BIN" --version) in $((SECONDS - start))s"
}

cmd_env() {
	echo "export AUDITEXPORT_TEST_DUCKDB='$BIN'"
}

usage() {
	echo "usage: $0 install|env" >&2
	exit 2
}

case "${1:-}" in
install) cmd_install ;;
env) cmd_env ;;
*) usage ;;
esac
