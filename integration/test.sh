#!/usr/bin/env bash
# The whole test suite: starts every server the tests need (installing it on
# first use), runs go vet and every test, then stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

started=()
cleanup() {
	for s in "${started[@]}"; do
		bash "integration/scripts/$s.sh" stop || true
	done
}
trap cleanup EXIT

# Install the servers that are built or downloaded (two Go builds and an npm
# install: minutes when cold, a version check when cached), and build the
# DuckDB runner the ddl tests use (a cgo build, about a minute when cold), in
# parallel. Each one's output is kept apart and printed once it is done, so
# lines never interleave. PostgreSQL comes from apt-get, inside its own start.
logs="$(mktemp -d)"
pids=()
installs=(versitygw fakegcs azurite duckdb)
for s in "${installs[@]}"; do
	bash "integration/scripts/$s.sh" install >"$logs/$s.log" 2>&1 &
	pids+=("$!")
done
failed=()
for i in "${!installs[@]}"; do
	wait "${pids[$i]}" || failed+=("${installs[$i]}")
	cat "$logs/${installs[$i]}.log" >&2
done
rm -rf "$logs"
if ((${#failed[@]} > 0)); then
	echo "test.sh: installing ${failed[*]} failed (see above)" >&2
	exit 1
fi

for s in postgres versitygw fakegcs azurite; do
	bash "integration/scripts/$s.sh" start
	started+=("$s")
	eval "$(bash "integration/scripts/$s.sh" env)"
done
eval "$(bash integration/scripts/duckdb.sh env)"
echo "test.sh: servers ready after ${SECONDS}s" >&2

go vet ./...
go test -count=1 -timeout 20m ./...
# The Kubernetes manifests and the Dockerfile's build, in their own module so
# the main module stays free of Kubernetes dependencies.
go -C configs/kubernetes/validate vet ./...
go -C configs/kubernetes/validate test -count=1 ./...
