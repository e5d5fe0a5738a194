#!/usr/bin/env bash
# Runs Backline's benchmarks and writes docs/BENCHMARKS.md: starts redis-server and the
# services on free loopback ports — all-in-one (backline-server), then split (1 presence,
# 2 router and 2 chat instances behind nginx, routed by gRPC service name with
# deploy/nginx/backline-split.conf) — measures the machine's floor and Backline's figures in the
# same runs, and records the commands, the machine and the results.
#
#   scripts/bench.sh                  everything, docs/BENCHMARKS.md rewritten (about 8 minutes)
#   scripts/bench.sh --no-write       print the results only
#   scripts/bench.sh --quick          the small smoke scenario in both layouts, nothing written
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
write=true
quick=false
for arg in "$@"; do
  case $arg in
    --no-write) write=false ;;
    --quick) quick=true; write=false ;;
    *) echo "usage: scripts/bench.sh [--no-write] [--quick]" >&2; exit 2 ;;
  esac
done

ensure_packages "${BACKLINE_BENCH_PACKAGES[@]}"
log "building (release with debug info)"
build_backline build -DBACKLINE_BUILD_BENCH=ON -- backline-server backline-presence backline-router \
  backline-chat backline-bench backline-load backline-micro backline-kb-bench

# A free port below the kernel's ephemeral range (32768 and up), which the thousands of client
# connections of a run draw from: a port found free there can be taken before it is bound.
bench_port() { free_port 20000 32000; }

work=$(mktemp -d /tmp/backline-bench.XXXXXX)
pids=()        # everything started here, stopped on exit
stack_pids=()  # the services of the current layout
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis_port=$(bench_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
pids+=("$redis_pid")
wait_port "$redis_port"
# Every call waits on Redis, one thread: on a machine it shares with the services (here also with
# the load generator) it runs at a higher scheduling priority, as deploy/systemd's drop-in for
# redis-server.service sets it. Without the right to (not root), it keeps the default priority
# and the report says so.
set_redis_nice() { renice -n "$1" -p $(ls "/proc/$redis_pid/task") >/dev/null 2>&1; }
if set_redis_nice -10; then redis_nice=-10; else redis_nice=0; fi
head -c 48 /dev/urandom | base64 -w0 >"$work/token.secret"
# Sessions must outlive the benchmark's phases: a long liveness timeout. Offers lapse after 5 s
# (15 s by default) so that ignored offers come back within a scenario.
cat >"$work/config.json" <<EOC
{"presence": {"liveness_timeout_seconds": 600}, "redis_pool_size": 16,
 "routing": {"offer_timeout_seconds": 5}}
EOC
common=(--redis "127.0.0.1:$redis_port" --secret_file "$work/token.secret")

# start_service NAME BINARY: starts one service instance on a free port, which it leaves in
# $port (not printed: the pids must be recorded in this shell, not in a subshell). Tries
# another port if the process did not stay up.
start_service() {
  local name=$1 binary=$2 attempt pid
  for attempt in 1 2 3; do
    port=$(bench_port)
    "build/bin/$binary" --config "$work/config.json" --listen "127.0.0.1:$port" \
      --redis "127.0.0.1:$redis_port" --token_secret_file "$work/token.secret" \
      >"$work/$name.log" 2>&1 &
    pid=$!
    if wait_port "$port" && sleep 0.2 && kill -0 "$pid" 2>/dev/null; then
      pids+=("$pid")
      stack_pids+=("$pid")
      echo "$name=$pid" >>"$work/watched"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "$name did not start; see its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop_stack() {
  for pid in "${stack_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${stack_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stack_pids=()
  : >"$work/watched"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
}

# run_load LAYOUT SCENARIO TARGET [extra flags]: one backline-load run; the report goes to
# $work/LAYOUT-SCENARIO.md (and .json), and is echoed.
run_load() {
  local layout=$1 scenario=$2 target=$3
  shift 3
  local servers
  servers=$(paste -sd, "$work/watched"),redis=$redis_pid
  local cmd=(build/bin/backline-load --target "$target" "${common[@]}"
             --scenario "bench/scenarios/$scenario.json" --servers "$servers"
             --json_out "$work/$layout-$scenario.json" "$@")
  log "$layout: ${cmd[*]}"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >"$work/$layout-$scenario.load"
  "${cmd[@]}" >"$work/$layout-$scenario.md"
  cat "$work/$layout-$scenario.md"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
}

if $quick; then
  scenarios_all_in_one=(smoke)
  scenarios_split=(smoke)
else
  scenarios_all_in_one=(escalations chat idle)
  scenarios_split=(escalations chat)
fi

# --- all-in-one ---
: >"$work/watched"
start_service backline-server backline-server
server_port=$port
server_pid=${stack_pids[0]}
target="127.0.0.1:$server_port"
if ! $quick; then
  bench=(build/bin/backline-bench --target "$target" "${common[@]}")
  log "all-in-one: ${bench[*]} presence"
  "${bench[@]}" --json_out "$work/presence.json" presence >"$work/presence.md"
  cat "$work/presence.md"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
  log "all-in-one: ${bench[*]} --server_pid $server_pid messaging"
  "${bench[@]}" --json_out "$work/messaging.json" --server_pid "$server_pid" messaging \
    >"$work/messaging.md"
  cat "$work/messaging.md"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
  log "all-in-one: ${bench[*]} routing"
  "${bench[@]}" --json_out "$work/routing.json" routing >"$work/routing.md"
  cat "$work/routing.md"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
  log "all-in-one: ${bench[*]} window"
  "${bench[@]}" --json_out "$work/window.json" window >"$work/window.md"
  cat "$work/window.md"
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
fi
for s in "${scenarios_all_in_one[@]}"; do run_load all-in-one "$s" "$target"; done
if ! $quick && [[ $redis_nice != 0 ]]; then
  # What the priority is worth: the escalation scenario again with Redis at the default one.
  set_redis_nice 0 || true
  run_load all-in-one-redis-nice-0 escalations "$target"
  set_redis_nice "$redis_nice" || true
fi
stop_stack

# --- split: 1 presence, 2 router, 2 chat behind nginx ---
start_service presence backline-presence; presence_port=$port
start_service router-1 backline-router; router1_port=$port
start_service router-2 backline-router; router2_port=$port
start_service chat-1 backline-chat; chat1_port=$port
start_service chat-2 backline-chat; chat2_port=$port
front_port=$(bench_port)
floor_port=$(bench_port)
# The shipped front, with this run's ports, plus a route to the benchmark's own push floor server
# (so that the floor is measured through the front too).
sed -E -e "s/(upstream backline_presence \{)( server [^;]*;)+/\1 server 127.0.0.1:$presence_port;/" \
  -e "s/(upstream backline_router +\{)( server [^;]*;)+/\1 server 127.0.0.1:$router1_port; server 127.0.0.1:$router2_port;/" \
  -e "s/(upstream backline_chat +\{)( server [^;]*;)+/\1 server 127.0.0.1:$chat1_port; server 127.0.0.1:$chat2_port;/" \
  -e "s/listen 7400 /listen 127.0.0.1:$front_port /" \
  -e "s|^( *)(location /grpc.health.v1.Health/.*)$|\1\2\n\1location /backline.bench.Floor/ { grpc_pass grpc://127.0.0.1:$floor_port; }|" \
  deploy/nginx/backline-split.conf >"$work/backline-split.conf"
cat >"$work/nginx.conf" <<EOC
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $work/nginx-error.log warn;
pid $work/nginx.pid;
events { worker_connections 16000; }
http {
  access_log off;
  include $work/backline-split.conf;
}
EOC
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
nginx_pid=$!
pids+=("$nginx_pid")
stack_pids+=("$nginx_pid")
wait_port "$front_port" || { cat "$work/nginx-error.log" >&2; exit 1; }
sleep 0.2
for w in $(pgrep -P "$nginx_pid"); do echo "nginx-worker=$w" >>"$work/watched"; done
for s in "${scenarios_split[@]}"; do
  run_load split "$s" "127.0.0.1:$front_port" --push_floor_via "127.0.0.1:$front_port" \
    --push_floor_port "$floor_port"
done
stop_stack

# --- micro-benchmarks ---
micro_cmd=(build/bin/backline-micro --benchmark_min_time=0.2)
$quick && micro_cmd+=(--benchmark_filter=Keys)
log "BACKLINE_MICRO_REDIS=127.0.0.1:$redis_port ${micro_cmd[*]}"
BACKLINE_MICRO_REDIS="127.0.0.1:$redis_port" "${micro_cmd[@]}" >"$work/micro.txt" 2>&1
cat "$work/micro.txt"

# --- the knowledge-base bot's index (no server) ---
kb_cmd=(build/bin/backline-kb-bench --seeds tests/data/seeds --articles 10000 --queries 2000)
$quick && kb_cmd=(build/bin/backline-kb-bench --seeds tests/data/seeds --articles 500 --queries 200)
log "${kb_cmd[*]}"
"${kb_cmd[@]}" --json_out "$work/kb.json" >"$work/kb.md"
cat "$work/kb.md"

# The reports as JSON, for whoever wants the numbers rather than the tables.
mkdir -p build/bench-results
find "$work" -maxdepth 1 -name '*.json' ! -name config.json -exec cp {} build/bench-results/ \;
log "JSON reports in build/bench-results/"

if $write; then
  section() {  # section LAYOUT SCENARIO
    local j="$work/$1-$2.json"
    echo "### $1: $2"
    echo
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["description"])' "$j"
    echo
    echo "$(cat "$work/$1-$2.load")."
    echo
    cat "$work/$1-$2.md"
    echo
  }
  cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  {
    echo "# Benchmarks"
    echo
    echo "Produced by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d): one run, everything on loopback."
    echo "Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB RAM,"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), redis-server $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2),"
    echo "$(nginx -v 2>&1 | sed 's/^nginx version: //'); RelWithDebInfo build. The benchmark clients run on the same"
    echo "two cores as the servers, Redis and nginx — and, on a shared machine, as whatever else runs"
    echo "there: each load section says how busy the whole machine was."
    echo
    if [[ $redis_nice != 0 ]]; then
      echo "It starts \`redis-server\` (no persistence, at nice $redis_nice: see \"Redis's priority\" below) and the services with"
    else
      echo "It starts \`redis-server\` (no persistence; at the default priority: this run could not raise it) and the services with"
    fi
    echo '`{"presence": {"liveness_timeout_seconds": 600}, "redis_pool_size": 16, "routing": {"offer_timeout_seconds": 5}}`,'
    echo "first all-in-one (\`backline-server\`), then split (\`backline-presence\`, 2 × \`backline-router\`,"
    echo "2 × \`backline-chat\` behind nginx with \`deploy/nginx/backline-split.conf\`, one worker), and runs"
    echo
    echo '```'
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> presence"
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> --server_pid <pid> messaging"
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> routing"
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> window"
    for s in "${scenarios_all_in_one[@]}"; do
      echo "backline-load --target <server> --redis <redis> --secret_file <secret> --scenario bench/scenarios/$s.json --servers <label=pid,...>"
    done
    for s in "${scenarios_split[@]}"; do
      echo "backline-load --target <nginx> --redis <redis> --secret_file <secret> --scenario bench/scenarios/$s.json --servers <label=pid,...> --push_floor_via <nginx> --push_floor_port <port>"
    done
    echo "BACKLINE_MICRO_REDIS=<redis> backline-micro --benchmark_min_time=0.2"
    echo '```'
    echo
    echo "with Redis emptied in between. Latencies are seen by the clients, round trips included; the"
    echo "floor rows are the machine's own limits measured in the same run, and \"p50 / floor\" is a"
    echo "figure's median over the floor named under its table."
    echo
    echo "## Targets"
    echo
    echo "From the JSON reports of this run (\`scripts/bench_targets.py\`); the issue's bars, 2-core"
    echo "machine, everything on loopback. \"others\" is the CPU that processes outside the benchmark"
    echo "took meanwhile, and \"steal\" the time the hypervisor gave this machine's cores to other"
    echo "machines (the kernel charges part of it to whatever process was running): the machine is"
    echo "shared."
    echo
    python3 scripts/bench_targets.py "$work"
    echo
    echo "## Load: backline-load"
    echo
    for s in "${scenarios_all_in_one[@]}"; do section all-in-one "$s"; done
    if [[ -f "$work/all-in-one-redis-nice-0-escalations.json" ]]; then
      echo "The same escalation scenario again, all-in-one, with Redis at the default priority:"
      echo
      section all-in-one-redis-nice-0 escalations
    fi
    for s in "${scenarios_split[@]}"; do section split "$s"; done
    echo "## Figure by figure: backline-bench (all-in-one)"
    echo
    echo "Each section measures its own floor, and its ratios are to the gRPC unary round trip."
    echo
    echo "### Presence and roster"
    echo
    cat "$work/presence.md"
    echo
    echo "### Messaging and event streams"
    echo
    cat "$work/messaging.md"
    echo
    echo "### Routing"
    echo
    cat "$work/routing.md"
    echo
    echo "### A month's window (what GetStats reads)"
    echo
    echo "20,000 escalations created over 31 days, seeded through the escalation store under a key"
    echo "prefix of their own (deleted afterwards), read ten times each way, alternating, while"
    echo "another client pings Redis one PING after another."
    echo
    cat "$work/window.md"
    echo
    echo "## Knowledge-base bot: backline-kb-bench"
    echo
    echo "\`${kb_cmd[*]}\`: 10,000 articles made from the seed texts' words (Zipf-skewed, Danish,"
    echo "Chinese, Dutch, Lithuanian), read from disk and indexed three times, then 2,000 searches"
    echo "of 4-9 words (the bot's work per escalation before it posts; ICU case folding, bigrams, BM25,"
    echo "snippets of the top 3)."
    echo
    sed '1,2d' "$work/kb.md"
    echo
    echo "## Micro-benchmarks: backline-micro"
    echo
    echo '```'
    grep -v -E "^\*\*\*WARNING|^$" "$work/micro.txt"
    echo '```'
    echo
    cat docs/benchmarks-notes.md
  } >docs/BENCHMARKS.md
  log "wrote docs/BENCHMARKS.md"
fi
