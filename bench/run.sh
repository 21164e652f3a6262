#!/usr/bin/env bash
# bench/run.sh: auditexport measured against its references (issue 6), side by side on this machine.
#
#   bash bench/run.sh                       # 1M rows of gzipped CSV: auditexport vs DuckDB, 5 runs each, alternating
#   bash bench/run.sh --large               # the same at 10M rows
#   bash bench/run.sh --rows 1000000 --large   # both sizes, plus the flatness ratios 10M/1M (peak RSS, CPU a row)
#   bash bench/run.sh --targets             # every mode with a target, in one run, then the targets side by side
#   bash bench/run.sh --postgres            # a 5M-row PostgreSQL table: auditexport vs psql \copy to /dev/null
#   bash bench/run.sh --noop                # an incremental run with nothing new, against a year of partitions
#   bash bench/run.sh --daily               # the next day's run: one new 30-day export against the archive of the last
#   bash bench/run.sh --sigma-api           # a 30-day pull through Sigma's REST API (the contract's test server)
#   bash bench/run.sh --rows 200000 --runs 3 --noop --postgres --pg-rows 1000000   # modes combine
#
# What each mode measures:
#   CSV       auditexport run (decode, map, coerce, dedup, Parquet zstd, commit to a local file:// destination)
#             vs bench/duckdb, the reference doing the same work: DuckDB COPY (SELECT DISTINCT ON ("Event Id") *,
#             CAST(Timestamp AS DATE) AS event_date FROM read_csv(..)) TO dir (FORMAT PARQUET, PARTITION_BY
#             (event_date), COMPRESSION ZSTD); and, for continuity, the same COPY without DISTINCT ON (no dedup,
#             "duckdb-copy"). --levels adds auditexport runs at other zstd levels. Same input, each run into a
#             fresh output directory, one untimed warm-up each, then --runs timed runs of each, alternating.
#             Input: `auditexport generate --exports 1 --format csv.gz --timestamps plain`, one export holding
#             --days days, cached in bench/.data.
#   postgres  psql -c "\copy (SELECT * FROM t) TO '/dev/null'" vs auditexport run --source.kind postgres, on
#             a 19-column table of --pg-rows rows, alternating. On 2 or more cores the server is pinned to CPU 0
#             (taskset on the postmaster, whose new backends inherit it: checked from a backend's
#             /proc/self/status) and each client to CPU 1, as if the database had a machine of its own
#             (--no-pin: no pinning). The server is integration/scripts/postgres.sh's,
#             as a cluster of the benchmark's own (127.0.0.1:54339 or $BENCH_POSTGRES_PORT, data in
#             bench/.data/postgres), left running so the table is loaded once.
#   noop      a destination holding a year of daily partitions, built (a) by one run over 365 daily exports
#             ("bulk": one commit) and (b) by 365 daily runs, one new export each ("daily": 365 commits, as a
#             year of cron runs leaves it); then --runs timed `auditexport run` with nothing new.
#   daily     the run a daily cron makes: an archive built from yesterday's export (30 days of --daily-rows events a
#             day), then --runs timed `auditexport run` over today's export (the same 30 days moved on by one),
#             each on a fresh copy of that archive. Every row of the new export is deduplicated against the
#             archive (older rows too: an event older than run.lookback that the archive lacks is written).
#             Compare builds with --ref.
#   sigma-api a backfill of the last 30 days through the sigma-api source, from bench/sigmaserver (the contract's
#             test server, exporter/source/sigmaapi/sigmatest, in a process of its own) serving one 30-day export
#             of --api-rows events a day as a workbook element: one export, its 204 poll and its download per
#             day, at the default poll interval (1s) and 400 requests a minute. Requests are the server's count.
# Wall time is measured by bash (EPOCHREALTIME); peak RSS and CPU time by /usr/bin/time -v (installed with
# apt-get when missing). Every run's output is checked (row counts, status) and the script stops, naming the
# command and showing its stderr, when a tool fails or writes the wrong number of rows.
#
# Tables go to stdout and to bench/.data/results/<UTC time>.txt; progress goes to stderr.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
BIN="$BENCH/.bin"
DATA="$BENCH/.data"
RUNDIR="$DATA/runs"
AE="$BIN/auditexport"
DK="$BIN/duckdb-ref"

sizes=()
runs=5
warmup=1
days=30
seed=1
start_date=2026-01-01
threads=0
do_pg=0
pg_rows=5000000
do_noop=0
noop_history=both
do_daily=0
daily_rows=20000
do_api=0
api_rows=50000
ref=""
run_timeout=1800
levels=()
pin=1

usage() {
	cat <<-'EOF'
		usage: bench/run.sh [--rows N]... [--large] [--postgres] [--noop] [options]

		modes (any combination; none given means --rows 1000000):
		  --targets           every mode with a target: --rows 1000000 --large --postgres --noop, then a
		                      summary of each target with its figure (about an hour on 2 cores)
		  --rows N            CSV.gz input of about N rows: auditexport vs DuckDB (repeatable)
		  --large             add the 10,000,000-row CSV.gz case
		  --postgres          PostgreSQL table: auditexport vs psql \copy to /dev/null
		  --noop              incremental run with nothing new against a year of daily partitions
		  --daily             the next day's incremental run over a new 30-day export
		  --sigma-api         a 30-day pull through Sigma's REST API from the contract's test server

		options:
		  --runs N            timed runs of each tool (default 5)
		  --warmup N          untimed runs of each tool before timing (default 1)
		  --days N            event days in the CSV input (default 30, as one Sigma export holds)
		  --seed N            generator seed (default 1)
		  --threads N         DuckDB threads (default 0: DuckDB's own default, one per core)
		  --levels L,L        CSV modes: also time auditexport with parquet.compression_level L (zstd), alternating
		  --pg-rows N         rows of the PostgreSQL table (default 5000000)
		  --no-pin            --postgres: do not pin the server to CPU 0 and the clients to CPU 1
		  --noop-history H    bulk, daily or both (default both): how the year of partitions is built
		  --daily-rows N      events a day in the --daily exports (default 20000)
		  --api-rows N        events a day served to --sigma-api (default 50000)
		  --ref REV           build auditexport from git revision REV (git archive) instead of the work tree
		  --timeout S         stop a run after S seconds with SIGQUIT (a Go goroutine dump) and fail (default 1800)
		  -h, --help          this text

		Inputs are cached in bench/.data (delete it to regenerate); binaries are built into bench/.bin.
	EOF
}

die() {
	echo "bench: error: $*" >&2
	exit 1
}
note() { echo "bench: $*" >&2; }

need_int() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 wants a whole number, got \"$2\""; }

while (($# > 0)); do
	case "$1" in
	--rows)
		(($# >= 2)) || die "--rows needs a row count"
		need_int --rows "$2"
		(($2 > 0)) || die "--rows must be positive"
		sizes+=("$2")
		shift 2
		;;
	--large) sizes+=(10000000) && shift ;;
	--targets) sizes+=(1000000 10000000) && do_pg=1 && do_noop=1 && shift ;;
	--postgres) do_pg=1 && shift ;;
	--no-pin) pin=0 && shift ;;
	--noop) do_noop=1 && shift ;;
	--daily) do_daily=1 && shift ;;
	--sigma-api) do_api=1 && shift ;;
	--runs | --warmup | --days | --seed | --threads | --pg-rows | --timeout | --daily-rows | --api-rows)
		(($# >= 2)) || die "$1 needs a value"
		need_int "$1" "$2"
		case "$1" in
		--runs) runs=$2 ;;
		--warmup) warmup=$2 ;;
		--days) days=$2 ;;
		--seed) seed=$2 ;;
		--threads) threads=$2 ;;
		--pg-rows) pg_rows=$2 ;;
		--timeout) run_timeout=$2 ;;
		--daily-rows) daily_rows=$2 ;;
		--api-rows) api_rows=$2 ;;
		esac
		shift 2
		;;
	--noop-history)
		(($# >= 2)) || die "--noop-history needs bulk, daily or both"
		[[ "$2" =~ ^(bulk|daily|both)$ ]] || die "--noop-history wants bulk, daily or both, got \"$2\""
		noop_history=$2
		shift 2
		;;
	--levels)
		(($# >= 2)) || die "--levels needs zstd levels, e.g. 1,3"
		[[ "$2" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--levels wants zstd levels separated by commas (1,3), got \"$2\""
		IFS=, read -r -a levels <<<"$2"
		shift 2
		;;
	--ref)
		(($# >= 2)) || die "--ref needs a git revision"
		ref=$2
		shift 2
		;;
	-h | --help) usage && exit 0 ;;
	*)
		usage >&2
		die "unknown argument \"$1\""
		;;
	esac
done
((runs >= 1)) || die "--runs must be at least 1"
((days >= 1)) || die "--days must be at least 1"
((pg_rows >= 1)) || die "--pg-rows must be at least 1"
((run_timeout >= 1)) || die "--timeout must be at least 1 second"
((daily_rows >= 1)) || die "--daily-rows must be at least 1"
((api_rows >= 1)) || die "--api-rows must be at least 1"
if ((${#sizes[@]} == 0 && do_pg == 0 && do_noop == 0 && do_daily == 0 && do_api == 0)); then
	sizes=(1000000)
fi
# Each size once, smallest first (--targets with --rows 1000000 or --large asks for one twice).
if ((${#sizes[@]} > 0)); then
	mapfile -t sizes < <(printf '%s\n' "${sizes[@]}" | sort -n -u)
fi

# ---------------------------------------------------------------------------------------------- helpers

# as_root runs a package install as root, or through sudo -n.
as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "need root (or passwordless sudo) to run: $*"
	fi
}

# need_pkg CHECK PACKAGE installs Debian's PACKAGE when the file or command CHECK is missing.
need_pkg() {
	if [[ -x "$1" ]] || command -v "$1" >/dev/null 2>&1; then
		return 0
	fi
	note "$1 not found: installing $2 with apt-get"
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "$2" >&2 || {
		DEBIAN_FRONTEND=noninteractive as_root apt-get update >&2
		DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "$2" >&2
	}
}

# fmt_int 1234567 -> 1,234,567
fmt_int() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

# stats V... prints "median min max" of the values.
stats() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f", m, a[1], a[NR] }'
}
max_of() { printf '%s\n' "$@" | sort -g | tail -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
# verdict VALUE OP LIMIT -> "ok" or "MISS"
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == "<=") ? (v <= l) : (v < l); print ok ? "ok" : "MISS" }'; }
# record_target WHAT FIGURE REFERENCE OP LIMIT: keeps a target's line for the summary printed at the end.
TARGETS=()
record_target() {
	TARGETS+=("$(printf '%-40s %-34s %2s %-8s %s' "$1" "$2 $3" "$4" "$5" "$(verdict "$2" "$4" "$5")")")
}
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# measure OUT ERR CMD... runs CMD under /usr/bin/time -v; sets M_RC, M_WALL (s), M_RSS (KiB), M_CPU (user+sys s).
# A run still going after --timeout seconds gets SIGQUIT (timeout signals its whole process group; time(1)
# ignores it), so a hung Go program leaves its goroutine dump in ERR; M_RC is then 124.
measure() {
	local out="$1" err="$2" tf t0 t1
	shift 2
	tf="$(mktemp)"
	M_RC=0
	t0=$EPOCHREALTIME
	timeout -k 30 -s QUIT "$run_timeout" /usr/bin/time -v -o "$tf" "$@" >"$out" 2>"$err" || M_RC=$?
	t1=$EPOCHREALTIME
	M_WALL="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
	M_RSS="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tf")"
	M_CPU="$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tf")"
	rm -f "$tf"
}

# fail_run TOOL OUT ERR WHY: stop the benchmark, showing what the failed run printed.
fail_run() {
	local keep
	keep="$DATA/failed/$(date -u +%Y%m%dT%H%M%SZ)-$1"
	mkdir -p "$keep"
	if ((M_RC == 124)); then
		set -- "$1" "$2" "$3" "timed out after ${run_timeout}s (hung?): its goroutine dump is in $keep/stderr; $4"
	fi
	cp "$2" "$keep/stdout" 2>/dev/null || true
	cp "$3" "$keep/stderr" 2>/dev/null || true
	{
		echo "bench: $1 FAILED: $4"
		echo "bench: command: ${LAST_CMD[*]}"
		echo "bench: exit status $M_RC; stdout and stderr kept in $keep; last lines of stderr:"
		tail -n 30 "$3" | sed 's/^/    /'
		echo "bench: summary: $(head -c 2000 "$2")"
	} >&2
	exit 1
}

# json FILE FILTER: one value from a JSON document.
json() { jq -r "$2" "$1"; }

# ae_check OUT ERR WANT_READ WANT_WRITTEN: an auditexport run ended ok with these counts (empty: unchecked).
ae_check() {
	local out="$1" err="$2" status read written rejected
	((M_RC == 0)) || fail_run auditexport "$out" "$err" "exit status $M_RC"
	status="$(json "$out" .status 2>/dev/null || true)"
	[[ "$status" == ok ]] || fail_run auditexport "$out" "$err" "summary status \"$status\", want ok"
	read="$(json "$out" .rows_read)"
	written="$(json "$out" .rows_written)"
	rejected="$(json "$out" .rows_rejected)"
	[[ "$rejected" == 0 ]] || fail_run auditexport "$out" "$err" "$rejected rows rejected, want 0"
	[[ -z "$3" || "$read" == "$3" ]] || fail_run auditexport "$out" "$err" "read $read rows, want $3"
	[[ -z "$4" || "$written" == "$4" ]] || fail_run auditexport "$out" "$err" "wrote $written rows, want $4"
}

machine() {
	local cpu mem
	cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "== machine"
	echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu:       $(nproc) cores, ${cpu:-unknown}"
	echo "memory:    $mem"
	echo "kernel:    $(uname -sr)"
	echo "load avg:  $(loadavg) (1, 5, 15 min; other work on the machine skews the figures)"
	echo "go:        $(go version | cut -d' ' -f3-)"
	echo "auditexport: built from $AE_SRC"
	if ((${#sizes[@]} > 0)); then
		echo "duckdb:    $("$DK" --version 2>/dev/null || echo unknown) (github.com/duckdb/duckdb-go/v2 $(grep -o 'github.com/duckdb/duckdb-go/v2 v[^ ]*' "$BENCH/duckdb/go.mod" | head -n1 | cut -d' ' -f2))"
	fi
	echo
}

# build_auditexport: from the work tree (as it is now, edits included), or from --ref REV through git archive
# into bench/.data/src-REV, so a baseline can be measured while the work tree is being changed.
build_auditexport() {
	local head dirty=""
	if [[ -z "$ref" ]]; then
		head="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		[[ -z "$(git -C "$ROOT" status --porcelain -- . ':(exclude)bench' ':(exclude)README.md' ':(exclude)docs/benchmarks.md' 2>/dev/null)" ]] ||
			dirty=" plus uncommitted changes"
		AE_SRC="the work tree (HEAD $head$dirty)"
		note "building auditexport from the work tree into $AE"
		(cd "$ROOT" && go build -o "$AE" ./cmd/auditexport)
		return
	fi
	local rev src
	rev="$(git -C "$ROOT" rev-parse --verify --quiet "$ref^{commit}")" || die "--ref $ref: not a git revision"
	src="$DATA/src-${rev:0:12}"
	if [[ ! -f "$src/.complete" ]]; then
		rm -rf "$src"
		mkdir -p "$src"
		git -C "$ROOT" archive "$rev" | tar -x -C "$src"
		touch "$src/.complete"
	fi
	AE_SRC="commit ${rev:0:12} ($ref, via git archive)"
	note "building auditexport from $AE_SRC into $AE"
	(cd "$src" && go build -o "$AE" ./cmd/auditexport)
}

build() {
	build_auditexport
	if ((${#sizes[@]} > 0)); then
		note "building the DuckDB reference into $DK (cgo; the first build takes a while)"
		(cd "$BENCH/duckdb" && CGO_ENABLED=1 go build -o "$DK" .)
	fi
}

# ------------------------------------------------------------------------------------------ CSV vs DuckDB

# prepare_csv ROWS: sets IN_DIR, IN_FILE, IN_ROWS (rows in the file), IN_DISTINCT, IN_COLS, IN_GZ, IN_RAW.
prepare_csv() {
	local rows="$1" per_day dir
	per_day=$(((rows + days - 1) / days))
	dir="$DATA/csvgz-r$rows-d$days-s$seed-$start_date"
	if [[ ! -f "$dir/.complete" ]]; then
		note "generating $(fmt_int "$rows") rows ($days days x $(fmt_int "$per_day")) into $dir"
		rm -rf "$dir"
		mkdir -p "$dir/export"
		# One export holding every day; plain timestamps so DuckDB's own sniffer types the column (see docs/benchmarks.md).
		# --late-rate 0: late rows only exist between consecutive exports.
		"$AE" generate --out "$dir/export" --days "$days" --rows-per-day "$per_day" --exports 1 \
			--format csv.gz --timestamps plain --late-rate 0 --seed "$seed" --start "$start_date" \
			>"$dir/generate.json"
		local f
		f="$(ls "$dir"/export/*.csv.gz)"
		{ gzip -dc "$f" | head -n1 || true; } | awk -F, '{ print NF }' >"$dir/columns"
		gzip -dc "$f" | wc -c >"$dir/raw_bytes"
		touch "$dir/.complete"
	fi
	IN_DIR="$dir/export"
	IN_FILE="$(ls "$IN_DIR"/*.csv.gz)"
	IN_ROWS="$(json "$dir/generate.json" '.rows_written // .RowsWritten')"
	IN_DISTINCT="$(json "$dir/generate.json" '.distinct // .Distinct')"
	IN_COLS="$(cat "$dir/columns")"
	IN_GZ="$(stat -c %s "$IN_FILE")"
	IN_RAW="$(cat "$dir/raw_bytes")"
}

# csv_run TOOL I RECORD: one run of TOOL into a fresh directory; RECORD=1 appends its figures. TOOL is
# auditexport, auditexport-zN (zstd level N), duckdb (DISTINCT ON the event key) or duckdb-copy (no dedup).
csv_run() {
	local tool="$1" i="$2" record="$3" out="$RUNDIR/$1-$2" o="$RUNDIR/$1-$2.stdout" e="$RUNDIR/$1-$2.stderr"
	rm -rf "$out"
	case "$tool" in
	auditexport*)
		LAST_CMD=("$AE" run --source.url "$IN_DIR" --destination.url "$out" --log.level warn)
		[[ "$tool" == auditexport-z* ]] && LAST_CMD+=(--parquet.compression_level "${tool#auditexport-z}")
		measure "$o" "$e" "${LAST_CMD[@]}"
		ae_check "$o" "$e" "$IN_ROWS" "$IN_DISTINCT"
		CSV_OUT[$tool]="$(json "$o" .rows_written)"
		;;
	duckdb*)
		local want=$IN_DISTINCT query=dedup n
		if [[ "$tool" == duckdb-copy ]]; then
			want=$IN_ROWS query=copy
		fi
		LAST_CMD=("$DK" --in "$IN_DIR/*.csv.gz" --out "$out" --threads "$threads" --query "$query")
		measure "$o" "$e" "${LAST_CMD[@]}"
		((M_RC == 0)) || fail_run "$tool" "$o" "$e" "exit status $M_RC"
		n="$(json "$o" .rows)"
		[[ "$n" == "$want" ]] || fail_run "$tool" "$o" "$e" "wrote $n rows, want $want"
		CSV_OUT[$tool]="$n"
		;;
	esac
	# Parquet bytes alone (auditexport's commit log and key files are not data).
	CSV_BYTES[$tool]="$(find "$out" -type f -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
	rm -rf "$out" "$o" "$e"
	note "$tool $([[ "$record" == 1 ]] && echo "run $i" || echo "warm-up $i"): ${M_WALL}s, peak RSS $(kib_to_mib "$M_RSS") MiB, cpu ${M_CPU}s"
	if [[ "$record" == 1 ]]; then
		WALLS[$tool]+=" $M_WALL"
		RSSES[$tool]+=" $M_RSS"
		CPUS[$tool]+=" $M_CPU"
	fi
}

declare -A PEAK_BY_SIZE=() CPU_BY_SIZE=()

bench_csv() {
	local rows="$1" tool i load0 l
	local tools=(auditexport)
	for l in "${levels[@]}"; do tools+=("auditexport-z$l"); done
	tools+=(duckdb duckdb-copy)
	prepare_csv "$rows"
	declare -gA WALLS=() RSSES=() CPUS=() CSV_OUT=() CSV_BYTES=()
	for tool in "${tools[@]}"; do WALLS[$tool]="" RSSES[$tool]="" CPUS[$tool]=""; done
	load0="$(loadavg)"
	note "CSV $(fmt_int "$IN_ROWS") rows: $warmup warm-up and $runs timed runs of each of ${tools[*]}, alternating"
	for ((i = 1; i <= warmup; i++)); do
		for tool in "${tools[@]}"; do csv_run "$tool" "$i" 0; done
	done
	for ((i = 1; i <= runs; i++)); do
		for tool in "${tools[@]}"; do csv_run "$tool" "$i" 1; done
	done

	echo "== CSV.gz -> partitioned zstd Parquet, $(fmt_int "$IN_ROWS") rows"
	echo "input:     $(basename "$IN_FILE"): $(awk -v b="$IN_GZ" 'BEGIN { printf "%.1f MiB", b / 1048576 }') gzipped" \
		"($(awk -v b="$IN_RAW" 'BEGIN { printf "%.1f MiB", b / 1048576 }') CSV), $IN_COLS columns," \
		"$(fmt_int "$IN_ROWS") rows ($(fmt_int "$IN_DISTINCT") distinct events), $days event days, plain timestamps"
	echo "runs:      $runs timed of each, alternating, after $warmup warm-up; load avg $load0 before, $(loadavg) after"
	echo "duckdb:    DISTINCT ON (\"Event Id\"), the same work as auditexport (the reference); duckdb-copy: no dedup (the first reference)"
	printf '%-15s %10s %10s %8s %8s %8s %11s %8s %9s %10s\n' \
		tool "rows in" "rows out" "wall med" "min" "max" "rows/s" "cpu s" "RSS max" "parquet MB"
	local med mn mx peak c
	local -A MED=() PEAK=() CPU=()
	for tool in "${tools[@]}"; do
		# shellcheck disable=SC2086 # word splitting of the recorded lists is intended
		read -r med mn mx <<<"$(stats ${WALLS[$tool]})"
		# shellcheck disable=SC2086
		peak="$(max_of ${RSSES[$tool]})"
		# shellcheck disable=SC2086
		read -r c _ <<<"$(stats ${CPUS[$tool]})"
		printf '%-15s %10s %10s %7.2fs %7.2fs %7.2fs %11s %7.1fs %5s MiB %10s\n' \
			"$tool" "$(fmt_int "$IN_ROWS")" "$(fmt_int "${CSV_OUT[$tool]}")" "$med" "$mn" "$mx" \
			"$(fmt_int "$(awk -v n="$IN_ROWS" -v s="$med" 'BEGIN { printf "%.0f", n / s }')")" \
			"$c" "$(kib_to_mib "$peak")" "$(awk -v b="${CSV_BYTES[$tool]}" 'BEGIN { printf "%.1f", b / 1e6 }')"
		MED[$tool]=$med PEAK[$tool]=$peak CPU[$tool]=$c
	done
	local wr rr cr
	wr="$(ratio "${MED[auditexport]}" "${MED[duckdb]}")"
	rr="$(ratio "${PEAK[auditexport]}" "${PEAK[duckdb]}")"
	cr="$(ratio "${CPU[auditexport]}" "${CPU[duckdb]}")"
	echo "ratio auditexport/duckdb: wall $wr (target <= 0.75: $(verdict "$wr" '<=' 0.75)), peak RSS $rr, cpu time $cr, parquet bytes $(ratio "${CSV_BYTES[auditexport]}" "${CSV_BYTES[duckdb]}")"
	echo "ratio auditexport/duckdb-copy (no dedup): wall $(ratio "${MED[auditexport]}" "${MED[duckdb-copy]}"), cpu time $(ratio "${CPU[auditexport]}" "${CPU[duckdb-copy]}")"
	for l in "${levels[@]}"; do
		echo "zstd level $l: wall $(ratio "${MED[auditexport-z$l]}" "${MED[duckdb]}")x duckdb, parquet bytes $(ratio "${CSV_BYTES[auditexport-z$l]}" "${CSV_BYTES[duckdb]}")x duckdb's"
	done
	echo "auditexport peak RSS: $(kib_to_mib "${PEAK[auditexport]}") MiB (target <= 256 MiB: $(verdict "${PEAK[auditexport]}" '<=' 262144))"
	echo
	local size="CSV.gz $(fmt_int "$IN_ROWS") rows"
	record_target "$size: wall / duckdb" "$wr" "(${MED[auditexport]}s / ${MED[duckdb]}s)" '<=' 0.75
	record_target "$size: peak RSS MiB" "$(kib_to_mib "${PEAK[auditexport]}")" "" '<=' 256
	PEAK_BY_SIZE[$IN_ROWS]="${PEAK[auditexport]}"
	CPU_BY_SIZE[$IN_ROWS]="${CPU[auditexport]}"
}

# flatness: the largest input's auditexport peak RSS within 20% of the smallest's, and its CPU time a
# million rows within 5%.
flatness() {
	((${#PEAK_BY_SIZE[@]} >= 2)) || return 0
	local small big r cs cb
	small="$(printf '%s\n' "${!PEAK_BY_SIZE[@]}" | sort -n | head -n1)"
	big="$(printf '%s\n' "${!PEAK_BY_SIZE[@]}" | sort -n | tail -n1)"
	r="$(ratio "${PEAK_BY_SIZE[$big]}" "${PEAK_BY_SIZE[$small]}")"
	echo "memory flatness: auditexport peak RSS at $(fmt_int "$big") rows / at $(fmt_int "$small") rows =" \
		"$(kib_to_mib "${PEAK_BY_SIZE[$big]}") / $(kib_to_mib "${PEAK_BY_SIZE[$small]}") MiB = $r (target <= 1.20: $(verdict "$r" '<=' 1.20))"
	record_target "peak RSS $(fmt_int "$big") / $(fmt_int "$small") rows" "$r" "" '<=' 1.20
	cs="$(awk -v c="${CPU_BY_SIZE[$small]}" -v n="$small" 'BEGIN { printf "%.2f", c / n * 1e6 }')"
	cb="$(awk -v c="${CPU_BY_SIZE[$big]}" -v n="$big" 'BEGIN { printf "%.2f", c / n * 1e6 }')"
	r="$(ratio "$cb" "$cs")"
	echo "cpu flatness: auditexport CPU-s a million rows at $(fmt_int "$big") rows / at $(fmt_int "$small") rows =" \
		"$cb / $cs = $r (target <= 1.05: $(verdict "$r" '<=' 1.05))"
	record_target "CPU a row $(fmt_int "$big") / $(fmt_int "$small") rows" "$r" "($cb / $cs CPU-s per 1M)" '<=' 1.05
	echo
}

# ------------------------------------------------------------------------------------ PostgreSQL vs psql

pg_load_sql() {
	local table="$1" n="$2"
	echo "SET client_min_messages = warning;"
	echo "DROP TABLE IF EXISTS $table;"
	echo "\\set table $table"
	echo "\\set start '$start_date 00:00:00+00'"
	echo "\\set rows $n"
	cat "$BENCH/postgres-table.sql"
	echo "ANALYZE $table;"
}

bench_postgres() {
	local table="bench_audit_$pg_rows" psql have i load0 size
	# The project's own script, but a cluster of the benchmark's own (port and directory): integration/test.sh
	# stops and deletes the tests' cluster when it ends, which must not happen under a benchmark. It is left
	# running so the loaded table is reused; PG_STOP (below) says how to stop it.
	export AUDITEXPORT_POSTGRES_PORT="${BENCH_POSTGRES_PORT:-54339}" AUDITEXPORT_POSTGRES_DIR="$DATA/postgres"
	PG_STOP="AUDITEXPORT_POSTGRES_PORT=$AUDITEXPORT_POSTGRES_PORT AUDITEXPORT_POSTGRES_DIR=$AUDITEXPORT_POSTGRES_DIR bash integration/scripts/postgres.sh stop"
	note "starting PostgreSQL on 127.0.0.1:$AUDITEXPORT_POSTGRES_PORT (integration/scripts/postgres.sh start)"
	bash "$ROOT/integration/scripts/postgres.sh" start >&2
	eval "$(bash "$ROOT/integration/scripts/postgres.sh" env)"
	local dsn="$AUDITEXPORT_TEST_POSTGRES_DSN"
	psql="$(command -v psql || printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -n1)"
	[[ -x "$psql" ]] || die "psql not found after postgres.sh start"
	have="$("$psql" -X -q -t -A -d "$dsn" -c "SELECT count(*) FROM $table" 2>/dev/null || echo none)"
	if [[ "$have" != "$pg_rows" ]]; then
		note "loading $(fmt_int "$pg_rows") rows into $table (once; kept while the server runs)"
		pg_load_sql "$table" "$pg_rows" | "$psql" -X -q -v ON_ERROR_STOP=1 -d "$dsn" >&2
	fi
	size="$("$psql" -X -q -t -A -d "$dsn" -c "SELECT pg_size_pretty(pg_total_relation_size('$table'))")"
	# Pinning: the postmaster and its processes to CPU 0 (new backends inherit the postmaster's affinity), the
	# clients to CPU 1; without it, every CPU for everyone (a cluster pinned by an earlier run is unpinned).
	local pm cpus client=() pinning backend_cpus
	pm="$(head -n1 "$AUDITEXPORT_POSTGRES_DIR/data/postmaster.pid")"
	cpus="0-$(($(nproc) - 1))"
	if ((pin == 1 && $(nproc) >= 2)); then
		cpus=0 client=(taskset -c 1)
	fi
	taskset -apc "$cpus" "$pm" >/dev/null || die "taskset -apc $cpus $pm (the postmaster) failed"
	for p in $(pgrep -P "$pm"); do
		taskset -apc "$cpus" "$p" >/dev/null || true # a process that ended meanwhile
	done
	backend_cpus="$("$psql" -X -q -t -A -d "$dsn" -c "SELECT substring(pg_read_file('/proc/self/status') FROM 'Cpus_allowed_list:\s*(\S+)')")"
	[[ "$backend_cpus" == "$cpus" ]] || die "a new PostgreSQL backend runs on CPUs $backend_cpus, want $cpus (pinning did not take)"
	if ((${#client[@]} > 0)); then
		pinning="server on CPU 0 (a new backend's Cpus_allowed_list: $backend_cpus), psql and auditexport on CPU 1"
	else
		pinning="none (server and clients on CPUs $cpus)"
	fi
	note "pinning: $pinning"
	local cols
	cols="$("$psql" -X -q -t -A -d "$dsn" -c "SELECT count(*) FROM information_schema.columns WHERE table_name = '$table'")"

	declare -gA WALLS=([psql]="" [auditexport]="") RSSES=([psql]="" [auditexport]="") CPUS=([psql]="" [auditexport]="")
	load0="$(loadavg)"
	note "PostgreSQL $(fmt_int "$pg_rows") rows: $warmup warm-up and $runs timed runs of each, alternating"
	local tool o e out
	for ((i = 1 - warmup; i <= runs; i++)); do
		for tool in psql auditexport; do
			o="$RUNDIR/pg-$tool.stdout" e="$RUNDIR/pg-$tool.stderr" out="$RUNDIR/pg-out"
			rm -rf "$out"
			if [[ "$tool" == psql ]]; then
				LAST_CMD=("${client[@]}" "$psql" -X -q -d "$dsn" -c "\\copy (SELECT * FROM $table) TO '/dev/null'")
				measure "$o" "$e" "${LAST_CMD[@]}"
				((M_RC == 0)) || fail_run psql "$o" "$e" "exit status $M_RC"
			else
				LAST_CMD=("${client[@]}" env "AUDITEXPORT_SOURCE_POSTGRES_DSN=$dsn" "$AE" run --source.kind postgres
					--source.postgres.table "$table" --destination.url "$out" --log.level warn)
				measure "$o" "$e" "${LAST_CMD[@]}"
				ae_check "$o" "$e" "$pg_rows" "$pg_rows"
			fi
			rm -rf "$out" "$o" "$e"
			note "$tool $( ((i >= 1)) && echo "run $i" || echo warm-up): ${M_WALL}s, peak RSS $(kib_to_mib "$M_RSS") MiB, cpu ${M_CPU}s"
			if ((i >= 1)); then
				WALLS[$tool]+=" $M_WALL"
				RSSES[$tool]+=" $M_RSS"
				CPUS[$tool]+=" $M_CPU"
			fi
		done
	done

	echo "== PostgreSQL table -> partitioned zstd Parquet, $(fmt_int "$pg_rows") rows"
	echo "input:     table $table: $cols columns, $size on disk, PostgreSQL $("$psql" -X -q -t -A -d "$dsn" -c 'SHOW server_version'), on this machine (127.0.0.1)"
	echo "runs:      $runs timed of each, alternating, after $warmup warm-up; load avg $load0 before, $(loadavg) after"
	echo "psql:      \\copy (SELECT * FROM $table) TO '/dev/null' (its RSS is the client's alone)"
	echo "pinning:   $pinning"
	printf '%-12s %10s %8s %8s %8s %11s %8s %9s\n' tool rows "wall med" "min" "max" "rows/s" "cpu s" "RSS max"
	local med mn mx peak c
	local -A MED=() PEAK=()
	for tool in psql auditexport; do
		# shellcheck disable=SC2086
		read -r med mn mx <<<"$(stats ${WALLS[$tool]})"
		# shellcheck disable=SC2086
		peak="$(max_of ${RSSES[$tool]})"
		# shellcheck disable=SC2086
		read -r c _ <<<"$(stats ${CPUS[$tool]})"
		printf '%-12s %10s %7.2fs %7.2fs %7.2fs %11s %7.1fs %5s MiB\n' "$tool" "$(fmt_int "$pg_rows")" \
			"$med" "$mn" "$mx" "$(fmt_int "$(awk -v n="$pg_rows" -v s="$med" 'BEGIN { printf "%.0f", n / s }')")" \
			"$c" "$(kib_to_mib "$peak")"
		MED[$tool]=$med PEAK[$tool]=$peak
	done
	local wr
	wr="$(ratio "${MED[auditexport]}" "${MED[psql]}")"
	echo "ratio auditexport/psql: wall $wr (target <= 1.5: $(verdict "$wr" '<=' 1.5)); psql's wall includes the server's work, its cpu s only the client's"
	echo "auditexport peak RSS: $(kib_to_mib "${PEAK[auditexport]}") MiB (target <= 256 MiB: $(verdict "${PEAK[auditexport]}" '<=' 262144))"
	echo
	record_target "PostgreSQL $(fmt_int "$pg_rows") rows: wall / psql" "$wr" "(${MED[auditexport]}s / ${MED[psql]}s)" '<=' 1.5
	record_target "PostgreSQL $(fmt_int "$pg_rows") rows: peak RSS MiB" "$(kib_to_mib "${PEAK[auditexport]}")" "" '<=' 256
}

# ------------------------------------------------------------------------------------- no-op incremental

bench_noop() {
	local land="$DATA/noop-d365-r50-s$seed" history histories=() load0
	if [[ ! -f "$land/.complete" ]]; then
		note "generating a year of daily Sigma exports (365 days x 50 rows, one export a day) into $land"
		rm -rf "$land"
		mkdir -p "$land/export"
		"$AE" generate --out "$land/export" --days 365 --rows-per-day 50 --format csv.gz --timestamps plain \
			--seed "$seed" --start 2025-01-01 >"$land/generate.json"
		touch "$land/.complete"
	fi
	local distinct nexports
	distinct="$(json "$land/generate.json" '.distinct // .Distinct')"
	nexports="$(json "$land/generate.json" '(.files // .Files) | length')"
	case "$noop_history" in
	both) histories=(bulk daily) ;;
	*) histories=("$noop_history") ;;
	esac
	declare -A N_WALL=() N_RSS=() N_CPU=() N_BUILD=() N_PARTS=() N_COMMITS=() N_SIZE=()
	load0="$(loadavg)"
	for history in "${histories[@]}"; do
		local dest="$RUNDIR/noop-$history" src o="$RUNDIR/noop.stdout" e="$RUNDIR/noop.stderr" t0 f
		rm -rf "$dest" "$RUNDIR/noop-landing"
		t0=$EPOCHREALTIME
		if [[ "$history" == bulk ]]; then
			note "noop/bulk: one run over $nexports exports builds the year"
			src="$land/export"
			LAST_CMD=("$AE" run --source.url "$src" --destination.url "$dest" --log.level warn)
			measure "$o" "$e" "${LAST_CMD[@]}"
			ae_check "$o" "$e" "" "$distinct"
		else
			note "noop/daily: $nexports runs, one new export each, build the year as a daily cron would"
			src="$RUNDIR/noop-landing"
			mkdir -p "$src"
			local total=0 k=0
			local exports=()
			mapfile -t exports < <(find "$land/export" -maxdepth 1 -type f -name '*.csv.gz' | sort)
			for f in "${exports[@]}"; do
				ln "$f" "$src/" 2>/dev/null || cp "$f" "$src/"
				LAST_CMD=("$AE" run --source.url "$src" --destination.url "$dest" --log.level warn)
				measure "$o" "$e" "${LAST_CMD[@]}"
				ae_check "$o" "$e" "" ""
				total=$((total + $(json "$o" .rows_written)))
				k=$((k + 1))
				((k % 73 == 0)) && note "noop/daily: $k of $nexports runs"
			done
			[[ "$total" == "$distinct" ]] ||
				fail_run auditexport "$o" "$e" "the $nexports daily runs wrote $total rows in all, want $distinct"
		fi
		N_BUILD[$history]="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
		N_PARTS[$history]="$(find "$dest" -mindepth 1 -maxdepth 1 -name 'event_date=*' | wc -l)"
		N_COMMITS[$history]="$(find "$dest/_auditexport/log" -type f | wc -l)"
		N_SIZE[$history]="$(du -sm "$dest" | cut -f1)"
		N_WALL[$history]="" N_RSS[$history]="" N_CPU[$history]=""
		for ((i = 1; i <= runs; i++)); do
			LAST_CMD=("$AE" run --source.url "$src" --destination.url "$dest" --log.level warn)
			measure "$o" "$e" "${LAST_CMD[@]}"
			ae_check "$o" "$e" "0" "0"
			[[ "$(json "$o" .inputs_skipped)" == "$nexports" ]] ||
				fail_run auditexport "$o" "$e" "skipped $(json "$o" .inputs_skipped) inputs, want all $nexports"
			note "noop/$history run $i: ${M_WALL}s, peak RSS $(kib_to_mib "$M_RSS") MiB"
			N_WALL[$history]+=" $M_WALL"
			N_RSS[$history]+=" $M_RSS"
			N_CPU[$history]+=" $M_CPU"
		done
		rm -rf "$dest" "$RUNDIR/noop-landing" "$o" "$e"
	done

	echo "== no-op incremental run against a year of daily partitions"
	echo "input:     $nexports daily Sigma exports (each holding its 30 days), 365 days x 50 events ($(fmt_int "$distinct") distinct), left in the landing prefix"
	echo "runs:      $runs timed no-op runs (nothing new: every export already read); load avg $load0 before, $(loadavg) after"
	echo "history:   bulk = one run built the year (1 commit); daily = 365 runs, one export each (365 commits)"
	printf '%-8s %10s %8s %8s %9s %8s %8s %8s %9s %8s\n' \
		history partitions commits "dest MiB" "build s" "wall med" "min" "max" "RSS max" "target"
	local med mn mx
	for history in "${histories[@]}"; do
		# shellcheck disable=SC2086
		read -r med mn mx <<<"$(stats ${N_WALL[$history]})"
		# shellcheck disable=SC2086
		printf '%-8s %10s %8s %8s %8ss %7.3fs %7.3fs %7.3fs %5s MiB %8s\n' "$history" "${N_PARTS[$history]}" \
			"${N_COMMITS[$history]}" "${N_SIZE[$history]}" "${N_BUILD[$history]}" "$med" "$mn" "$mx" \
			"$(kib_to_mib "$(max_of ${N_RSS[$history]})")" "$(verdict "$med" '<' 2) <2s"
		record_target "no-op run ($history history): wall s" "$med" "" '<' 2
	done
	echo
}

bench_daily() {
	local start land base dest o="$RUNDIR/daily.stdout" e="$RUNDIR/daily.stderr" load0
	start="$(date -u -d '31 days ago' +%F)"
	land="$DATA/daily-d31-r$daily_rows-s$seed-$start"
	if [[ ! -f "$land/.complete" ]]; then
		note "generating 31 daily Sigma exports (each holding its 30 days) of $daily_rows events a day into $land"
		rm -rf "$land"
		mkdir -p "$land/export"
		"$AE" generate --out "$land/export" --days 31 --exports 31 --rows-per-day "$daily_rows" --format csv.gz \
			--timestamps plain --seed "$seed" --start "$start" >"$land/generate.json"
		touch "$land/.complete"
	fi
	local exports=()
	mapfile -t exports < <(find "$land/export" -maxdepth 1 -type f -name '*.csv.gz' | sort)
	local yesterday="${exports[-2]}" today="${exports[-1]}" src="$RUNDIR/daily-landing"
	base="$RUNDIR/daily-base" dest="$RUNDIR/daily-dest"
	rm -rf "$src" "$base" && mkdir -p "$src"
	ln "$yesterday" "$src/" 2>/dev/null || cp "$yesterday" "$src/"
	note "daily: building the archive of yesterday's export $(basename "$yesterday")"
	LAST_CMD=("$AE" run --source.url "$src" --destination.url "$base" --log.level warn)
	measure "$o" "$e" "${LAST_CMD[@]}"
	ae_check "$o" "$e" "" ""
	local base_rows
	base_rows="$(json "$o" .rows_written)"
	ln "$today" "$src/" 2>/dev/null || cp "$today" "$src/"
	local D_WALL="" D_RSS="" D_CPU="" read written archived late
	load0="$(loadavg)"
	for ((i = 1 - warmup; i <= runs; i++)); do
		rm -rf "$dest" && cp -r "$base" "$dest"
		LAST_CMD=("$AE" run --source.url "$src" --destination.url "$dest" --log.level warn)
		measure "$o" "$e" "${LAST_CMD[@]}"
		ae_check "$o" "$e" "" ""
		[[ "$(json "$o" .inputs_skipped)" == 1 ]] || fail_run auditexport "$o" "$e" "skipped $(json "$o" .inputs_skipped) inputs, want yesterday's"
		read="$(json "$o" .rows_read)" written="$(json "$o" .rows_written)"
		archived="$(json "$o" .rows_already_archived)" late="$(json "$o" '.rows_late // 0')"
		((i >= 1)) || continue
		note "daily run $i: ${M_WALL}s, peak RSS $(kib_to_mib "$M_RSS") MiB, $written written"
		D_WALL+=" $M_WALL" D_RSS+=" $M_RSS" D_CPU+=" $M_CPU"
	done
	rm -rf "$src" "$base" "$dest" "$o" "$e"
	local med mn mx cmed
	# shellcheck disable=SC2086
	read -r med mn mx <<<"$(stats $D_WALL)"
	# shellcheck disable=SC2086
	read -r cmed _ _ <<<"$(stats $D_CPU)"
	echo "== the next day's incremental run: a new 30-day export against the archive of the last"
	echo "input:     today's export $(basename "$today") ($(fmt_int "$read") rows, 30 days of $(fmt_int "$daily_rows") events a day); archive: $(fmt_int "$base_rows") events from yesterday's"
	echo "runs:      $runs timed runs (after $warmup warm-up), each on a fresh copy of the archive; load avg $load0 before, $(loadavg) after"
	printf '%10s %10s %10s %9s %9s %9s %9s %9s
' written archived late "wall med" min max "CPU med" "RSS max"
	# shellcheck disable=SC2086
	printf '%10s %10s %10s %8.3fs %8.3fs %8.3fs %8.2fs %5s MiB\n' "$(fmt_int "$written")" "$(fmt_int "$archived")" \
		"$(fmt_int "$late")" "$med" "$mn" "$mx" "$cmed" "$(kib_to_mib "$(max_of $D_RSS)")"
	echo
}

bench_sigma_api() {
	local start end land f url dest stats="$RUNDIR/sigma-stats.json" o="$RUNDIR/api.stdout" e="$RUNDIR/api.stderr" load0
	start="$(date -u -d '30 days ago' +%F)" end="$(date -u -d '1 day ago' +%F)"
	land="$DATA/sigmaapi-r$api_rows-s$seed-$start"
	if [[ ! -f "$land/.complete" ]]; then
		note "generating one 30-day Sigma export of $api_rows events a day into $land"
		rm -rf "$land"
		mkdir -p "$land/export"
		"$AE" generate --out "$land/export" --days 30 --exports 1 --rows-per-day "$api_rows" --format csv.gz \
			--timestamps plain --late-rate 0 --seed "$seed" --start "$start" >"$land/generate.json"
		touch "$land/.complete"
	fi
	f="$(ls "$land"/export/*.csv.gz)"
	note "building bench/sigmaserver into $BIN/sigmaserver"
	(cd "$BENCH/sigmaserver" && go build -o "$BIN/sigmaserver" .)
	note "sigma-api: loading $(basename "$f") into the test server"
	local secret
	secret="bench-$RANDOM$RANDOM"
	coproc SIGMASRV { exec "$BIN/sigmaserver" --rows "$f" --client-id bench-client --client-secret "$secret" --stats "$stats"; }
	read -r -t 600 url <&"${SIGMASRV[0]}" || die "bench/sigmaserver did not start"
	local srv_pid=$SIGMASRV_PID
	requests() {
		rm -f "$stats"
		kill -USR1 "$srv_pid"
		for _ in $(seq 100); do [[ -f "$stats" ]] && break; sleep 0.05; done
		jq .Requests "$stats"
	}
	local A_WALL="" A_RSS="" A_CPU="" A_REQ="" before read written windows
	load0="$(loadavg)"
	for ((i = 1 - warmup; i <= runs; i++)); do
		dest="$RUNDIR/api-dest" && rm -rf "$dest"
		before="$(requests)"
		LAST_CMD=(env SIGMA_CLIENT_ID=bench-client SIGMA_CLIENT_SECRET="$secret" "$AE" backfill --from "$start" --to "$end"
			--source.kind sigma-api --source.sigma_api.base_url "$url" --source.sigma_api.workbook_id bench-wb
			--source.sigma_api.element_id bench-el --source.sigma_api.requests_per_minute 400
			--destination.url "$dest" --log.level warn)
		measure "$o" "$e" "${LAST_CMD[@]}"
		ae_check "$o" "$e" "" ""
		read="$(json "$o" .rows_read)" written="$(json "$o" .rows_written)" windows="$(json "$o" '.progress.inputs | length')"
		((i >= 1)) || continue
		A_REQ+=" $(($(requests) - before))"
		note "sigma-api pull $i: ${M_WALL}s, peak RSS $(kib_to_mib "$M_RSS") MiB, $written written"
		A_WALL+=" $M_WALL" A_RSS+=" $M_RSS" A_CPU+=" $M_CPU"
	done
	kill "$srv_pid" 2>/dev/null || true
	wait "$srv_pid" 2>/dev/null || true
	rm -rf "$dest" "$o" "$e"
	local med mn mx cmed rmed
	# shellcheck disable=SC2086
	read -r med mn mx <<<"$(stats $A_WALL)"
	# shellcheck disable=SC2086
	read -r cmed _ _ <<<"$(stats $A_CPU)"
	# shellcheck disable=SC2086
	read -r rmed _ _ <<<"$(stats $A_REQ)"
	echo "== a 30-day pull through Sigma's REST API (sigma-api source; bench/sigmaserver, the contract's test server)"
	echo "input:     $windows windows ($start..$end), $(fmt_int "$read") rows ($(fmt_int "$api_rows") events a day), one export + poll + download a day"
	echo "runs:      $runs timed runs (after $warmup warm-up), each into a fresh archive; load avg $load0 before, $(loadavg) after"
	printf '%10s %10s %9s %9s %9s %9s %9s %9s\n' read written requests "wall med" min max "CPU med" "RSS max"
	# shellcheck disable=SC2086
	printf '%10s %10s %9.0f %8.3fs %8.3fs %8.3fs %8.2fs %5s MiB\n' "$(fmt_int "$read")" "$(fmt_int "$written")" "$rmed" \
		"$med" "$mn" "$mx" "$cmed" "$(kib_to_mib "$(max_of $A_RSS)")"
	echo
}

# ------------------------------------------------------------------------------------------------- main

mkdir -p "$BIN" "$DATA/results"
need_pkg /usr/bin/time time
need_pkg jq jq
build
rm -rf "$RUNDIR"
mkdir -p "$RUNDIR"
results="$DATA/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee -a "$results")
trap 'rm -rf "$RUNDIR"' EXIT

machine
for rows in "${sizes[@]}"; do
	bench_csv "$rows"
done
flatness
((do_pg == 0)) || bench_postgres
((do_noop == 0)) || bench_noop
((do_daily == 0)) || bench_daily
((do_api == 0)) || bench_sigma_api
if ((${#TARGETS[@]} > 0)); then
	echo "== targets (this run's medians; each figure against its reference where it has one)"
	printf '%-40s %-34s %2s %-8s %s\n' target figure "" limit verdict
	printf '%s\n' "${TARGETS[@]}"
	echo
fi
note "tables saved in $results"
if [[ -n "${PG_STOP:-}" ]]; then
	note "the benchmark's PostgreSQL server is still running (its table is reused next time); stop it with: $PG_STOP"
fi
