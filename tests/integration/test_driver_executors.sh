#!/usr/bin/env bash
# The executors and bounds not covered elsewhere: ramping-arrival-rate issues the integral of its
# rate, ramping-vus follows its stages, think time paces a VU, max_requests is exact over threads,
# a unique data set is used once per row across threads, record: false is marked, and a
# random data set with a seed repeats its choices run after run.
. "$(dirname "$0")/drvlib.sh"
tag="ex$$r$RANDOM"
cat >"$WORK/s.json" <<JSON
{"name": "executors",
 "endpoints": {"web": {"type": "http", "base_url": "\${CUTOVER_NGINX_URL}"}},
 "data": {"u": {"range": [1, 30], "mode": "unique"},
          "r": {"range": [1, 1000000], "mode": "random", "seed": 7}},
 "steps": {"get": {"http": {"endpoint": "web", "url": "/1k?$tag"}},
           "uniq": {"http": {"endpoint": "web", "url": "/1k?$tag-u={{u}}"}},
           "rand": {"http": {"endpoint": "web", "url": "/1k?$tag-r={{r}}"}}},
 "phases": [
   {"name": "warmup", "executor": "constant-vus", "vus": 2, "max_requests": 10, "record": false, "steps": ["get"]},
   {"name": "ramp", "executor": "ramping-arrival-rate", "start_rate": 0,
    "stages": [{"target": 100, "duration": "4s"}], "steps": ["get"]},
   {"name": "vus", "executor": "ramping-vus", "start_vus": 0,
    "stages": [{"to": 4, "duration": "1s"}, {"to": 0, "duration": "1s"}], "steps": ["get"]},
   {"name": "think", "executor": "constant-vus", "vus": 1, "duration": "1s", "think_time": "100ms", "steps": ["get"]},
   {"name": "bounded", "executor": "constant-vus", "vus": 8, "max_requests": 77, "steps": ["get"]},
   {"name": "unique", "executor": "constant-vus", "vus": 4, "duration": "20s", "steps": ["uniq"]},
   {"name": "random", "executor": "iterations", "iterations": 5, "concurrency": 1, "steps": ["rand"]}]}
JSON
"$BIN" run "$WORK/s.json" --threads 2 --quiet --out "$WORK/r.json"
r=$WORK/r.json
done_in() { jqr "$r" ".phases[] | select(.name == \"$1\") | .totals.completed"; }
check_eq "warm-up marked not recorded" "$(jqr "$r" '.phases[] | select(.name == "warmup") | .recorded')" false
check_eq "warm-up bounded" "$(done_in warmup)" 10
check_range "ramp 0->100/s over 4 s issues 200" "$(done_in ramp)" 199 201
check_range "ramping-vus lasted (s)" "$(jqr "$r" '.phases[] | select(.name == "vus") | .duration_s')" 1.9 2.6
check_range "think time 100 ms over 1 s" "$(done_in think)" 9 11
check_eq "max_requests exact over 2 threads" "$(done_in bounded)" 77
check_eq "unique rows once each" "$(done_in unique)" 30
check_range "unique phase ended when rows ran out (s)" \
    "$(jqr "$r" '.phases[] | select(.name == "unique") | .duration_s')" 0 5
distinct=$(grep -o -- "$tag-u=[0-9]*" "$CUTOVER_NGINX_ACCESS_LOG" | sort -u | wc -l)
check_eq "distinct unique rows nginx saw" "$distinct" 30
first=$(grep -o -- "$tag-r=[0-9]*" "$CUTOVER_NGINX_ACCESS_LOG" | sort | tr '\n' ' ')
tag2="ex$$r$RANDOM"
sed "s/$tag/$tag2/g" "$WORK/s.json" >"$WORK/s2.json"
"$BIN" run "$WORK/s2.json" --threads 2 --quiet --out "$WORK/r2.json"
second=$(grep -o -- "$tag2-r=[0-9]*" "$CUTOVER_NGINX_ACCESS_LOG" | sed "s/$tag2/$tag/" | sort | tr '\n' ' ')
check_eq "random rows repeat with the seed" "$second" "$first"
