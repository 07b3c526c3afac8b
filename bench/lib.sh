# bench/lib.sh - shared by the bench/ scripts (sourced, not run).
#
# Every script: parses the common options, installs the anchor tools it needs from Debian when
# they are missing, finds (or builds) cutover, starts a private loopback testbed with one nginx
# worker, pins the servers to core 0 and the generator to core 1 (when there are 2+ cores), runs
# cutover and the anchor tool alternately and prints per-pair rows, medians and ratios.
#
# Exit codes: 0 the benchmark ran (whatever the ratios), 1 something is broken (a tool missing
# and not installable, a run that failed or produced no result), 2 usage.

# Variables set here (OPS, SECS, CPU_S, WALL_S, RSS_KB, ...) are read by the scripts.
# shellcheck disable=SC2034
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_DIR/.." && pwd)
BENCH_NAME=$(basename "$0")

SMOKE=0
PAIRS=3
DURATION=10
KEEP_WORK=0
BENCH_USAGE_EXTRA=${BENCH_USAGE_EXTRA:-}

bench_usage() {
    cat <<EOF
usage: bench/$BENCH_NAME [--smoke] [--pairs N] [--duration SECONDS] [--keep]

  --smoke            tiny durations, 1 pair (about 10 s): checks that the script still works
  --pairs N          alternating A/B pairs (default 3)
  --duration S       seconds per measured run (default 10)
  --keep             keep the work directory (scenarios, raw outputs) and print its path
$BENCH_USAGE_EXTRA
Environment: CUTOVER_BIN (default: build-bench/cutover, built when missing),
             BENCH_SERVER_CPU / BENCH_GEN_CPU (default 0 / 1 when 2+ cores exist).
Exit status: 0 when the benchmark ran (never judged on a ratio), 1 when something is broken.
EOF
}

bench_parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
        --smoke) SMOKE=1; shift ;;
        --pairs) PAIRS=$2; shift 2 ;;
        --pairs=*) PAIRS=${1#*=}; shift ;;
        --duration) DURATION=$2; shift 2 ;;
        --duration=*) DURATION=${1#*=}; shift ;;
        --keep) KEEP_WORK=1; shift ;;
        -h | --help) bench_usage; exit 0 ;;
        *) echo "$BENCH_NAME: unknown option $1" >&2; bench_usage >&2; exit 2 ;;
        esac
    done
    case $PAIRS in '' | *[!0-9]* | 0) echo "$BENCH_NAME: --pairs wants a positive integer" >&2; exit 2 ;; esac
    case $DURATION in '' | *[!0-9]* | 0) echo "$BENCH_NAME: --duration wants whole seconds" >&2; exit 2 ;; esac
    if [ "$SMOKE" = 1 ]; then
        PAIRS=1
        DURATION=1
    fi
}

bench_log() { echo "[$BENCH_NAME] $*" >&2; }
bench_die() {
    echo "[$BENCH_NAME] BROKEN: $*" >&2
    exit 1
}

# ---- tools ------------------------------------------------------------------------------------

BENCH_APT_UPDATED=0
# bench_need CMD:PACKAGE ... installs the Debian packages of the commands that are missing.
bench_need() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd=${spec%%:*}
        pkg=${spec#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || bench_die "missing ${missing[*]} and not root (no sudo)"
        sudo=(sudo -n)
    fi
    bench_log "installing ${missing[*]} (apt-get)"
    if [ "$BENCH_APT_UPDATED" = 0 ]; then
        "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || bench_log "apt-get update failed (going on)"
        BENCH_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
        bench_die "apt-get install ${missing[*]} failed"
    for spec in "$@"; do
        command -v "${spec%%:*}" >/dev/null 2>&1 || bench_die "${spec%%:*} still missing after installing ${spec#*:}"
    done
}

# Sets CUTOVER to a built cutover binary: $CUTOVER_BIN, else build-bench/cutover (a Release
# build in the bench's own build directory, built when missing).
bench_cutover() {
    if [ -n "${CUTOVER_BIN:-}" ]; then
        [ -x "$CUTOVER_BIN" ] || bench_die "CUTOVER_BIN=$CUTOVER_BIN is not executable"
        CUTOVER=$CUTOVER_BIN
        return 0
    fi
    CUTOVER=$BENCH_REPO/build-bench/cutover
    if [ ! -x "$CUTOVER" ]; then
        bench_need cmake:cmake make:make
        bench_log "building cutover (Release) in build-bench/"
        cmake -S "$BENCH_REPO" -B "$BENCH_REPO/build-bench" -DCMAKE_BUILD_TYPE=Release >"$WORK/build.log" 2>&1 &&
            make -C "$BENCH_REPO/build-bench" -j2 cutover >>"$WORK/build.log" 2>&1 ||
            { tail -n 20 "$WORK/build.log" >&2; bench_die "cutover did not build"; }
    fi
}

# The tools every script uses.
bench_common_tools() {
    bench_need jq:jq taskset:util-linux awk:gawk
    [ -x /usr/bin/time ] || bench_need time:time
    [ -x /usr/bin/time ] || bench_die "/usr/bin/time missing"
}

# ---- work directory, testbed, pinning -----------------------------------------------------------

WORK=
TB=
bench_cleanup() {
    local rc=$?
    if [ -n "$TB" ] && [ -d "$TB" ]; then
        "$BENCH_REPO/harness/testbed" down --dir "$TB" >/dev/null 2>&1 || true
    fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$KEEP_WORK" = 1 ]; then bench_log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
    fi
    exit $rc
}

bench_init() {
    bench_parse_args "$@"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/cutover-bench-$BENCH_NAME.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bench_common_tools
    bench_cutover
    NCPU=$(nproc)
    if [ "$NCPU" -ge 2 ]; then
        SERVER_CPU=${BENCH_SERVER_CPU:-0}
        GEN_CPU=${BENCH_GEN_CPU:-1}
        GEN=(taskset -c "$GEN_CPU")
    else
        SERVER_CPU=
        GEN_CPU=
        GEN=()
    fi
    RESULTS=$WORK/results.tsv
    : >"$RESULTS"
}

# Starts the testbed (one nginx worker) in WORK/tb, sources its env and pins its servers.
bench_testbed_up() {
    TB=$WORK/tb
    CUTOVER_NGINX_WORKERS=1 "$BENCH_REPO/harness/testbed" up --dir "$TB" >"$WORK/testbed.log" 2>&1 ||
        { cat "$WORK/testbed.log" >&2; TB=; bench_die "harness/testbed up failed"; }
    # shellcheck source=/dev/null
    . "$TB/env"
    bench_pin_servers
}

# Pins a process and all its threads, and its direct children, to SERVER_CPU.
bench_pin_tree() {
    local pid=$1 c
    [ -n "$pid" ] || return 0
    taskset -a -cp "$SERVER_CPU" "$pid" >/dev/null 2>&1 || bench_log "could not pin pid $pid"
    for c in $(pgrep -P "$pid" 2>/dev/null || true); do
        taskset -a -cp "$SERVER_CPU" "$c" >/dev/null 2>&1 || true
    done
}

bench_pidfile() { [ -f "$1" ] && head -n1 "$1" | tr -dc 0-9; }

# redis-server, nginx (master and workers), the postmaster and its children (backends forked
# later inherit the postmaster's affinity), and the reference gateway when it runs.
bench_pin_servers() {
    [ -n "$SERVER_CPU" ] || { bench_log "1 core: no pinning"; return 0; }
    local f
    for f in "$TB/redis/redis.pid" "$TB/nginx/nginx.pid" "$TB/pg.pid" "$TB"/gateway/*.pid; do
        [ -f "$f" ] && bench_pin_tree "$(bench_pidfile "$f")"
    done
    bench_log "servers pinned to core $SERVER_CPU, generator to core $GEN_CPU"
}

# ---- measuring ----------------------------------------------------------------------------------

# bench_run NAME CMD... runs CMD on the generator core under /usr/bin/time; stdout/stderr go to
# WORK/NAME.out / .err, and CPU_S (user+sys), WALL_S and RSS_KB are set. Returns CMD's status.
bench_run() {
    local name=$1 rc=0
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "${GEN[@]}" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    if [ -s "$WORK/$name.time" ]; then
        read -r WALL_S u s RSS_KB < <(tail -n1 "$WORK/$name.time")
        CPU_S=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    else
        WALL_S=0 CPU_S=0 RSS_KB=0
    fi
    return $rc
}

bench_fail_run() { # NAME WHY
    echo "--- $1 stdout:" >&2
    tail -n 20 "$WORK/$1.out" >&2 || true
    echo "--- $1 stderr:" >&2
    tail -n 20 "$WORK/$1.err" >&2 || true
    bench_die "$1: $2"
}

# bench_record TEST TOOL PAIR OPS SECONDS CPU_S: one row of results.
bench_record() {
    local ops=$4 secs=$5 cpu=$6
    awk -v o="$ops" -v s="$secs" 'BEGIN { exit !(o > 0 && s > 0) }' ||
        bench_die "$2 in $1 pair $3: no operations measured (ops=$ops seconds=$secs)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$ops" "$secs" "$cpu" >>"$RESULTS"
}

# Runs a cutover scenario: bench_cutover_run NAME SCENARIO; sets OPS and SECS from the results
# JSON (.phases[0].totals.completed, .phases[0].duration_s), ERRS from its error count.
bench_cutover_run() {
    local name=$1 scn=$2 rc=0
    bench_run "$name" "$CUTOVER" run "$scn" --threads 1 --quiet --out "$WORK/$name.json" || rc=$?
    [ $rc -le 1 ] && [ -s "$WORK/$name.json" ] || bench_fail_run "$name" "cutover run exited $rc"
    OPS=$(jq '.phases[0].totals.completed' "$WORK/$name.json")
    SECS=$(jq '.phases[0].duration_s' "$WORK/$name.json")
    ERRS=$(jq '.phases[0].totals.errors.count' "$WORK/$name.json")
    [ "$ERRS" = 0 ] || bench_log "$name: $ERRS errors ($(jq -c '.phases[0].totals.errors.by_kind' "$WORK/$name.json"))"
}

# bench_table TEST A B [GOAL_TEXT]: per-pair rows for tools A and B of TEST, the medians, and
# the ratios A/B (per pair and the median of the per-pair ratios).
bench_table() {
    local test=$1 a=$2 b=$3
    awk -F'\t' -v test="$test" -v A="$a" -v B="$b" '
        function median(arr, n,   i, j, t) {
            for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j+1] = arr[j]; arr[j+1] = t }
            return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
        }
        $1 == test && ($2 == A || $2 == B) {
            k = $2 SUBSEP $3; ops[k] = $4; secs[k] = $5; cpu[k] = $6; pairs[$3] = 1
        }
        END {
            printf "\n== %s: %s vs %s ==\n", test, A, B
            printf "%-5s %-24s %12s %8s %12s %14s\n", "pair", "tool", "ops", "secs", "ops/s", "ops/CPU-s"
            np = 0; nr = 0
            for (p = 1; p in pairs; p++) {
                for (t = 0; t < 2; t++) {
                    tool = t ? B : A; k = tool SUBSEP p
                    if (!(k in ops)) continue
                    rate = ops[k] / secs[k]; per = cpu[k] > 0 ? ops[k] / cpu[k] : 0
                    printf "%-5d %-24s %12d %8.2f %12.0f %14.0f  (cpu %.2fs)\n", p, tool, ops[k], secs[k], rate, per, cpu[k]
                    R[tool, p] = rate; P[tool, p] = per
                }
                np++
                ra[np] = R[A, p]; rb[np] = R[B, p]; pa[np] = P[A, p]; pb[np] = P[B, p]
                sa[np] = secs[A SUBSEP p]; sb[np] = secs[B SUBSEP p]
                if (R[B, p] > 0 && P[B, p] > 0) {
                    nr++; rr[nr] = R[A, p] / R[B, p]; pr[nr] = P[A, p] / P[B, p]
                    printf "      ratio %s/%s: ops/s %.2fx, ops/CPU-s %.2fx\n", A, B, rr[nr], pr[nr]
                }
            }
            if (np == 0) { print "no rows"; exit 1 }
            printf "median %-17s %12s %8.2f %12.0f %14.0f\n", A, "", median(sa, np), median(ra, np), median(pa, np)
            printf "median %-17s %12s %8.2f %12.0f %14.0f\n", B, "", median(sb, np), median(rb, np), median(pb, np)
            if (nr) printf "RATIO %s/%s (median of pairs): ops/s %.2fx   ops/CPU-s %.2fx\n", A, B, median(rr, nr), median(pr, nr)
        }' "$RESULTS"
}

bench_header() {
    echo "# $BENCH_NAME  $(date -u +%FT%TZ)  nproc=$(nproc)  load=$(cut -d' ' -f1-3 /proc/loadavg)  pairs=$PAIRS  duration=${DURATION}s${SMOKE:+$([ "$SMOKE" = 1 ] && echo '  SMOKE')}"
    echo "# cutover: $CUTOVER   server core: ${SERVER_CPU:-none}   generator core: ${GEN_CPU:-none}"
}

bench_footer() {
    echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}
