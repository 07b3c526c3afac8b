# harness/gateway/testbed-hook.sh - sourced by harness/testbed (bash, set -euo pipefail).
#
# gateway_up   seeds PostgreSQL and Redis, starts deployments v1 and v2 of cutover-gateway,
#              renders DIR/nginx/conf.d/gateway.conf (nginx in front of v2) and prints the
#              export lines the testbed appends to DIR/env. Only export lines go to stdout.
# gateway_down stops v1 and v2 by PID.
#
# Uses from the testbed: TB_DIR, TB_ROOT, TB_GATEWAY_BIN, CUTOVER_REDIS_URL, CUTOVER_PG_DSN,
# TB_NGINX_CACHE_DIR, tb_free_port, tb_wait_http, tb_log.

_gw_stop() { # _gw_stop PIDFILE: TERM, then KILL after 5 s
    local f=$1 pid i
    [ -f "$f" ] || return 0
    pid=$(head -n1 "$f" | tr -dc 0-9)
    rm -f "$f"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

_gw_start() { # _gw_start NAME PORT [ARGS...]: one deployment in the background
    local name=$1 port=$2 dir="$TB_DIR/gateway"
    shift 2
    # setsid: the gateway must outlive the shell (and the ctest process group) that started it.
    # Nothing may keep this shell's stdout open: the testbed reads it through $(...).
    setsid "$TB_GATEWAY_BIN" serve --deployment "$name" --port "$port" \
        --pid-file "$dir/$name.pid" "$@" </dev/null >>"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
}

gateway_up() {
    local dir="$TB_DIR/gateway" p1 p2 pn i
    mkdir -p "$dir" "$TB_DIR/nginx/conf.d" "$TB_DIR/nginx/logs" \
        "$TB_NGINX_CACHE_DIR/shortcache" "$TB_NGINX_CACHE_DIR/dailycache"
    gateway_down
    # tb_free_port runs in a subshell each time, so it cannot remember: insist on three ports.
    p1=$(tb_free_port)
    for i in $(seq 1 50); do p2=$(tb_free_port); [ "$p2" != "$p1" ] && break; done
    for i in $(seq 1 50); do pn=$(tb_free_port); [ "$pn" != "$p1" ] && [ "$pn" != "$p2" ] && break; done

    # Seed (idempotent: tables refilled, keys replaced) and a clean migration, so the testbed
    # starts with Redis and PostgreSQL in agreement.
    if ! "$TB_GATEWAY_BIN" seed >"$dir/seed.json" 2>"$dir/seed.log"; then
        tb_log "gateway seed failed: see $dir/seed.log"
        return 1
    fi
    if ! "$TB_GATEWAY_BIN" migrate >"$dir/migrate.json" 2>>"$dir/seed.log"; then
        tb_log "gateway migrate failed: see $dir/seed.log"
        return 1
    fi

    _gw_start v1 "$p1"
    _gw_start v2 "$p2" --nginx-cache-dir "$TB_NGINX_CACHE_DIR"
    sed -e "s|@PORT@|$pn|g" -e "s|@V2_PORT@|$p2|g" -e "s|@CACHE_DIR@|$TB_NGINX_CACHE_DIR|g" \
        -e "s|@ACCESS_LOG@|$TB_DIR/nginx/logs/gateway.access.log|g" \
        "$TB_ROOT/harness/gateway/nginx-gateway.conf.in" >"$TB_DIR/nginx/conf.d/gateway.conf"
    tb_wait_http "http://127.0.0.1:$p1/ping" 20
    tb_wait_http "http://127.0.0.1:$p2/ping" 20
    tb_log "gateway v1 :$p1, v2 :$p2, nginx gateway :$pn"

    echo "export CUTOVER_V1_URL=http://127.0.0.1:$p1"
    echo "export CUTOVER_V2_URL=http://127.0.0.1:$p2"
    echo "export CUTOVER_GATEWAY_URL=http://127.0.0.1:$pn"
    echo "export CUTOVER_GATEWAY_ACCESS_LOG=$TB_DIR/nginx/logs/gateway.access.log"
    echo "export CUTOVER_NGINX_CACHE_DIR=$TB_NGINX_CACHE_DIR"
    echo "export CUTOVER_GATEWAY_BIN=$TB_GATEWAY_BIN"
}

gateway_down() {
    _gw_stop "$TB_DIR/gateway/v1.pid"
    _gw_stop "$TB_DIR/gateway/v2.pid"
}
