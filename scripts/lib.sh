# Shared by the scripts: installing Backline's build and run dependencies from Debian's archive,
# and building. Source it; do not run it.

BACKLINE_PACKAGES=(
  build-essential cmake pkg-config ccache
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libabsl-dev libhiredis-dev libssl-dev libcpp-jwt-dev nlohmann-json3-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev libncurses-dev
  redis-server tmux
  # the desktop tray (Qt 6) and its test on a private X server: Xvfb, a tray host, xdotool,
  # xmodmap (x11-xserver-utils)
  qt6-base-dev xvfb trayer xdotool x11-xserver-utils
)
# What scripts/bench.sh needs besides: nginx, the front of the split layout (only for the
# benchmark: its package starts a server on port 80 where it can).
BACKLINE_BENCH_PACKAGES=(nginx)
# What scripts/tray-screenshot.sh needs besides: ImageMagick's `import`, and a font with Chinese.
BACKLINE_SCREENSHOT_PACKAGES=(imagemagick fonts-wqy-zenhei)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the packages that are not installed yet (apt-get, as root or through sudo).
ensure_packages() {
  local missing=()
  for p in "${BACKLINE_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    "${sudo[@]}" apt-get update -q >/dev/null
    "${sudo[@]}" apt-get install -y -q "${missing[@]}" >/dev/null
  }
}

# build_backline DIR [cmake options...] [-- targets...]: configures and builds into DIR.
build_backline() {
  local dir=$1; shift
  local options=() targets=()
  while [[ $# -gt 0 && $1 != "--" ]]; do options+=("$1"); shift; done
  [[ ${1:-} == "--" ]] && shift && targets=("$@")
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}" >/dev/null
  local target_args=()
  for t in "${targets[@]}"; do target_args+=(--target "$t"); done
  if ! cmake --build "$dir" -j "$(nproc)" "${target_args[@]}" >"$dir/build.log" 2>&1; then
    grep -E -A3 "error|Error" "$dir/build.log" | head -60 >&2
    echo "build failed; the whole log is in $dir/build.log" >&2
    return 1
  fi
}

# A TCP port on 127.0.0.1 that nothing listens on, between $1 and $2 (default 20000-60999).
free_port() {
  local port
  # shuf, not $RANDOM: command substitutions would repeat the parent shell's sequence.
  for port in $(shuf -i "${1:-20000}-${2:-60999}" -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Waits until something accepts connections on 127.0.0.1:$1 (up to $2 seconds, default 10).
wait_port() {
  local deadline=$((SECONDS + ${2:-10}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [[ $SECONDS -ge $deadline ]] && return 1
    sleep 0.05
  done
}
