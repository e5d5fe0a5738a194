#!/usr/bin/env bash
# Brings up a local Backline stack and plays the core flow with the CLI:
# an agent escalates a billing question in Danish, the knowledge-base bot posts the matching
# articles into the thread at once, the one eligible senior gets the offer on their tray,
# accepts, they chat in Danish, Chinese, Dutch and Lithuanian, the senior resolves.
# Each step prints its latency. Everything started here is stopped on exit, unless --keep.
#
#   scripts/demo.sh          run the demo, then stop the stack
#   scripts/demo.sh --keep   leave redis-server and backline-server running afterwards
set -euo pipefail
[[ -n ${BACKLINE_DEMO_TRACE:-} ]] && set -x
cd "$(dirname "$0")/.."
source scripts/lib.sh
keep=false
[[ ${1:-} == "--keep" ]] && keep=true

ensure_packages
log "building backline-server, the backline CLI and backline-kb-bot"
build_backline build -DBACKLINE_BUILD_TESTS=OFF -DBACKLINE_BUILD_BENCH=OFF -- backline-server \
  backline backline-kb-bot

work=$(mktemp -d /tmp/backline-demo.XXXXXX)
pids=()
cleanup() {
  if ! $keep; then
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

redis_port=$(free_port)
log "starting redis-server on 127.0.0.1:$redis_port (data in $work)"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly yes \
  --logfile "$work/redis.log" --daemonize no &
pids+=($!)
wait_port "$redis_port"

# A development signing secret, generated for this run.
head -c 48 /dev/urandom | base64 -w0 >"$work/token.secret"
server_port=$(free_port)
log "starting backline-server on 127.0.0.1:$server_port"
build/bin/backline-server --listen "127.0.0.1:$server_port" --redis "127.0.0.1:$redis_port" \
  --token_secret_file "$work/token.secret" >"$work/server.log" 2>&1 &
pids+=($!)
wait_port "$server_port" && kill -0 "${pids[1]}" 2>/dev/null ||
  { cat "$work/server.log" >&2; exit 1; }

export BACKLINE_TARGET=127.0.0.1:$server_port
export BACKLINE_TOKEN_SECRET_FILE=$work/token.secret
export BACKLINE_CONFIG=$work/none
backline() { build/bin/backline "$@"; }
token() { backline admin token --subject "$1" --role "$2"; }
admin=$(token root admin)
anna=$(token anna agent)
soren=$(token soren senior)
mei=$(token mei senior)
jonas=$(token jonas senior)

# Runs one CLI step as $1 and prints its output with the call's round trip.
step() {
  local who=$1 title=$2; shift 2
  local out err
  err=$(mktemp)
  out=$(BACKLINE_TOKEN=${!who} backline --timing "$@" 2>"$err") || { cat "$err" >&2; exit 1; }
  printf '\n\033[1m%s\033[0m  (%s: %s)\n' "$title" "$who" "$(grep -o '[0-9.]* ms' "$err" | tail -1)"
  [[ -n $out ]] && sed 's/^/    /' <<<"$out"
  rm -f "$err"
  return 0
}

step admin "Apply the roster (deploy/demo-roster.jsonl)" admin roster apply deploy/demo-roster.jsonl

# The knowledge-base bot, on the sample articles of deploy/kb (Danish, Chinese, Dutch,
# Lithuanian, English).
backline admin token --bot kb >"$work/kb.token"
build/bin/backline-kb-bot --target "$BACKLINE_TARGET" --token_file "$work/kb.token" --kb deploy/kb \
  --state_file "$work/kb.cursor" >"$work/kb-bot.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "listening for escalations" "$work/kb-bot.log" && break; sleep 0.05; done
grep -q "listening for escalations" "$work/kb-bot.log" || { cat "$work/kb-bot.log" >&2; exit 1; }
printf '\n\033[1mThe knowledge-base bot listens\033[0m\n    %s\n' \
  "$(grep -o '[0-9]* articles indexed in .*' "$work/kb-bot.log" | head -1)"
step soren "Søren (senior, billing 4, speaks da/zh-Hant/nl/lt) is available" presence set available
step mei "Mei (senior, billing 5, but no Danish) is available" presence set available
step jonas "Jonas (senior, Danish, but billing only 2) is available" presence set available
step anna "Who can take billing >= 3 in Danish right now?" who --skill billing --level 3 --lang da

# Søren's tray: listens for the offer in the background and records when it arrives.
BACKLINE_TOKEN=$soren backline --timing watch --until offer --for 15 >"$work/tray.out" 2>"$work/tray.err" &
tray=$!
sleep 0.3
step anna "Anna escalates mid-call" ask --skill billing:3 --lang da --priority high \
  --call-id call-4711 --tried "checked the invoice" "Kunden spørger om en refusion af sidste faktura"
wait "$tray"
esc=$(grep -o 'esc-[a-z0-9]*' "$work/tray.out" | head -1)
printf '\n\033[1mSøren'"'"'s tray shows the offer\033[0m  (%s)\n' "$(grep -o 'delivered .*' "$work/tray.err" | head -1)"
sed 's/^/    /' "$work/tray.out"

# Before anyone has accepted, the bot's hits are already in the thread.
for _ in $(seq 100); do
  BACKLINE_TOKEN=$anna backline history "$esc" | grep -q '\[hit ' && break
  sleep 0.05
done
step anna "Anna already sees knowledge-base hits, before Søren has accepted" history "$esc"
BACKLINE_TOKEN=$anna backline history "$esc" | grep -q 'refusion-af-faktura' ||
  { echo "the knowledge-base bot did not post the refund article" >&2; exit 1; }
step anna "Anna marks the first hit helpful" rate "$esc" 1 helpful

step soren "Søren accepts" accept "$esc"
seeds=tests/data/seeds
step anna "Anna writes in Danish" say "$esc" "$(head -1 $seeds/da-relationer.txt)"
step soren "Søren answers in Chinese" say "$esc" "$(head -1 $seeds/zh-Hant-callcenter.txt)"
step anna "Anna writes in Dutch" say "$esc" "$(head -1 $seeds/nl-callcenter.txt)"
step soren "Søren answers in Lithuanian" say "$esc" "$(head -1 $seeds/lt-skambuciu-centras.txt)"
step anna "The thread, as Anna sees it" history "$esc"

# Every text arrived byte for byte.
for f in da-relationer zh-Hant-callcenter nl-callcenter lt-skambuciu-centras; do
  line=$(head -1 "$seeds/$f.txt")
  BACKLINE_TOKEN=$anna backline history "$esc" | grep -qF -- "$line" ||
    { echo "text of $f did not arrive intact" >&2; exit 1; }
done
printf '\n    all four texts arrived byte for byte\n'

step soren "Søren resolves" resolve "$esc" --note "refund approved"
step anna "Anna sees the escalation resolved" show "$esc"
step soren "Søren is free again" presence get

if $keep; then
  cat <<EOT

The stack keeps running:
  redis-server   127.0.0.1:$redis_port   (pid ${pids[0]}, data in $work)
  backline-server 127.0.0.1:$server_port  (pid ${pids[1]}, log $work/server.log)
  backline-kb-bot                    (pid ${pids[2]}, log $work/kb-bot.log)
Try:  BACKLINE_TARGET=127.0.0.1:$server_port BACKLINE_TOKEN=\$(BACKLINE_TOKEN_SECRET_FILE=$work/token.secret build/bin/backline admin token --subject anna --role agent) build/bin/backline show $esc
Stop: kill ${pids[*]}; rm -rf $work
EOT
else
  printf '\nDemo complete; stopping the stack.\n'
fi
