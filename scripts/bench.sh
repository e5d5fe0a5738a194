#!/usr/bin/env bash
# Runs Backline's benchmark and writes docs/BENCHMARKS.md: starts redis-server and
# backline-server on free loopback ports, measures the machine's floor and Backline's figures in
# the same run, and records the command, the machine and the results.
#
#   scripts/bench.sh                  the whole benchmark, docs/BENCHMARKS.md rewritten
#   scripts/bench.sh --no-write       print the results only
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
write=true
[[ ${1:-} == "--no-write" ]] && write=false

ensure_packages
log "building (release with debug info)"
build_backline build -DBACKLINE_BUILD_BENCH=ON -- backline-server backline-bench

work=$(mktemp -d /tmp/backline-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --logfile "$work/redis.log" --daemonize no &
pids+=($!)
wait_port "$redis_port"
head -c 48 /dev/urandom | base64 -w0 >"$work/token.secret"
# Sessions must outlive the benchmark's phases: a long liveness timeout.
cat >"$work/config.json" <<EOC
{"presence": {"liveness_timeout_seconds": 600}, "redis_pool_size": 16}
EOC
server_port=$(free_port)
build/bin/backline-server --config "$work/config.json" --listen "127.0.0.1:$server_port" \
  --redis "127.0.0.1:$redis_port" --token_secret_file "$work/token.secret" \
  >"$work/server.log" 2>&1 &
pids+=($!)
wait_port "$server_port"

bench=(build/bin/backline-bench --target "127.0.0.1:$server_port" --redis "127.0.0.1:$redis_port"
       --secret_file "$work/token.secret")
log "running: ${bench[*]} presence"
presence=$("${bench[@]}" --json_out "$work/presence.json" presence)
echo "$presence"
redis-cli -p "$redis_port" FLUSHALL >/dev/null
log "running: ${bench[*]} --server_pid ${pids[1]} messaging"
messaging=$("${bench[@]}" --json_out "$work/messaging.json" --server_pid "${pids[1]}" messaging)
echo "$messaging"
redis-cli -p "$redis_port" FLUSHALL >/dev/null
log "running: ${bench[*]} routing"
routing=$("${bench[@]}" --json_out "$work/routing.json" routing)
echo "$routing"

if $write; then
  cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  {
    echo "# Benchmarks"
    echo
    echo "Produced by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d): one run, everything on loopback."
    echo "It starts \`redis-server\` and \`backline-server\` (all-in-one, RelWithDebInfo build) and runs"
    echo
    echo '```'
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> presence"
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> --server_pid <pid> messaging"
    echo "backline-bench --target <server> --redis <redis> --secret_file <secret> routing"
    echo '```'
    echo
    echo "with Redis emptied in between. Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB RAM,"
    echo "$(. /etc/os-release; echo "$PRETTY_NAME"), redis-server $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2)."
    echo "The benchmark client runs on the same two cores as the server and Redis."
    echo
    echo "The floor rows are the machine's own limits measured in the same run; \"p50 / floor\" is a"
    echo "figure's median over the median of one gRPC unary round trip that does no work."
    echo "Latencies are seen by the client, round trips included."
    echo
    echo "## Presence and roster"
    echo
    echo "$presence"
    echo
    echo "## Messaging and event streams"
    echo
    echo "$messaging"
    echo
    echo "## Routing"
    echo
    echo "$routing"
    echo
    cat docs/benchmarks-notes.md
  } >docs/BENCHMARKS.md
  log "wrote docs/BENCHMARKS.md"
fi
