#!/usr/bin/env bash
# harness/testbed up, up again, down, down again: each is safe, and down leaves no process and
# no directory behind. Uses its own --dir (and so its own ports), apart from the shared testbed.
set -euo pipefail
root=${CUTOVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/cutover-updown.XXXXXX")
rmdir "$dir"
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
fail() { echo "FAIL: $*" >&2; bash "$root/harness/testbed" down --dir "$dir" || true; exit 1; }

bash "$root/harness/testbed" up --dir "$dir"
[ -f "$dir/env" ] || fail "no env file"
# shellcheck source=/dev/null
. "$dir/env"
[ "$CUTOVER_TESTBED_DIR" = "$dir" ] || fail "CUTOVER_TESTBED_DIR=$CUTOVER_TESTBED_DIR, want $dir"
pids=()
for f in "$dir/redis/redis.pid" "$dir/nginx/nginx.pid" "$dir/pg.pid" "$dir"/gateway/*.pid; do
    [ -f "$f" ] && pids+=("$(head -n1 "$f")")
done
[ ${#pids[@]} -ge 3 ] || fail "expected at least 3 pid files, got ${#pids[@]}"
for p in "${pids[@]}"; do running "$p" || fail "pid $p not running after up"; done
# Each server answers on its own port.
redis-cli -u "$CUTOVER_REDIS_URL" ping | grep -qx PONG || fail "redis does not answer"
[ "$(psql "$CUTOVER_PG_DSN" -XAtc 'select 40+2')" = 42 ] || fail "postgres does not answer"
[ "$(curl -s "$CUTOVER_NGINX_URL/1k" | wc -c)" = 1024 ] || fail "nginx /1k is not 1024 bytes"

# A second up is a no-op on a live testbed: same env, same processes.
before=$(md5sum <"$dir/env")
bash "$root/harness/testbed" up --dir "$dir"
[ "$(md5sum <"$dir/env")" = "$before" ] || fail "second up rewrote env"
for p in "${pids[@]}"; do running "$p" || fail "pid $p died on second up"; done

bash "$root/harness/testbed" down --dir "$dir"
[ ! -e "$dir" ] || fail "$dir still exists after down"
# Postgres' children and nginx' workers exit shortly after their parents.
for i in $(seq 1 50); do
    left=0
    for p in "${pids[@]}"; do running "$p" && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
done
for p in "${pids[@]}"; do running "$p" && fail "pid $p still running after down"; done
for p in $(pgrep -f -- "$dir"); do running "$p" && fail "a process still mentions $dir: $(ps -o pid,cmd -p "$p")"; done

bash "$root/harness/testbed" down --dir "$dir" || fail "second down failed"
echo "testbed up/up/down/down: ok"
