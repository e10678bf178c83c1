# Shared set-up for scripts/test and scripts/demo: sourced, never run.
#
# Why one file: both commands of the README must work on a fresh machine with
# nothing installed by hand, and must build the very same environment, so the
# venv and package set-up lives here once.
#
# After sourcing: ROOT (repository root), VENV, PY (the venv's python) are set,
# the venv's bin/ is first on PATH, and these functions exist:
#   env_setup         create or reuse .venv and install the package with extras
#   ensure_chromium   install Debian's chromium when missing and possible
#   free_port         print a free TCP port on 127.0.0.1
#   start_emulator    start the offline emulator in the background (EMULATOR_URL,
#                     EMULATOR_KEY: the only key it answers)
#   stop_emulator     stop it again (safe to call twice)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
EXTRAS="${GEMINI_MAGIC_EXTRAS:-test,browser}"

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }

# Debian/Ubuntu ship python3 without ensurepip unless python3-venv is installed;
# on a fresh machine we install it when we are root, and otherwise say what to do.
_make_venv() {
  if python3 -m venv --clear "$VENV" 2>/dev/null; then
    return 0
  fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    local minor
    minor="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    say "python3 -m venv failed; installing python${minor}-venv with apt-get"
    apt-get update -qq && apt-get install -y -qq "python${minor}-venv" >/dev/null \
      || apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv --clear "$VENV" && return 0
  fi
  warn "could not create $VENV: install Python >= 3.10 with its venv module (Debian: apt-get install python3-venv)"
  return 1
}

# The stamp holds a hash of everything an install depends on (pyproject and the
# kernelspec copied as shared-data), so a second run skips pip entirely.
_install_stamp() {
  cat "$ROOT/pyproject.toml" "$ROOT"/kernel/* 2>/dev/null | sha256sum | cut -d' ' -f1
  echo "$EXTRAS"
}

env_setup() {
  if ! command -v python3 >/dev/null; then
    warn "python3 not found: install Python >= 3.10 first"
    return 1
  fi
  if [[ -x $PY ]] && "$PY" -c 'import sys, venv; assert sys.version_info >= (3, 10)' 2>/dev/null \
    && "$PY" -m pip --version >/dev/null 2>&1; then
    say "reusing $VENV"
  else
    say "creating $VENV with $(python3 --version 2>&1)"
    _make_venv || return 1
    "$PY" -m pip install -q --upgrade pip || return 1
  fi
  local stamp="$VENV/.gemini-magic-install"
  if [[ -f $stamp ]] && [[ "$(cat "$stamp")" == "$(_install_stamp)" ]] \
    && "$PY" -c 'import gemini_magic' 2>/dev/null; then
    say "gemini-magic[$EXTRAS] already installed"
  else
    say "pip install -e '.[$EXTRAS]'"
    (cd "$ROOT" && "$PY" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]") || return 1
    _install_stamp >"$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
  export VIRTUAL_ENV="$VENV"
}

# The browser tests drive Debian's chromium (never a downloaded browser). Returns
# non-zero when it is still missing; the tests themselves decide to fail or skip.
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium (apt-get)"
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
      [[ -x /usr/bin/chromium ]] && return 0
    fi
  fi
  warn "/usr/bin/chromium is missing and could not be installed (needs root and apt-get)."
  warn "Install it with: sudo apt-get install chromium"
  return 1
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

EMULATOR_PID=""
EMULATOR_URL=""
EMULATOR_KEY=""
EMULATOR_KEY_DIR=""

# Start `python -m gemini_magic.emulator` on a free loopback port with the
# notebooks' scripted replies (if any) and wait until it answers; sets
# EMULATOR_URL and EMULATOR_KEY.  The emulator runs code as this user and answers
# only its own random key, which it writes to a file in a private folder (mode
# 0700, the file 0600): never on a command line or in the log, which other users
# of the machine could read.
start_emulator() {
  local port replies log key_file
  port="$(free_port)"
  replies="$ROOT/notebooks/replies.yaml"
  log="${EMULATOR_LOG:-$ROOT/build/emulator.log}"
  mkdir -p "$(dirname "$log")"
  EMULATOR_KEY_DIR="$(mktemp -d)"
  key_file="$EMULATOR_KEY_DIR/key"
  local args=(--port "$port" --key-file "$key_file")
  [[ -f $replies ]] && args+=(--replies "$replies")
  "$PY" -m gemini_magic.emulator "${args[@]}" >"$log" 2>&1 &
  EMULATOR_PID=$!
  EMULATOR_URL="http://127.0.0.1:$port"
  local _
  for _ in $(seq 1 100); do
    if [[ -s $key_file ]] && EMULATOR_KEY="$(<"$key_file")" \
      && URL="$EMULATOR_URL" KEY="$EMULATOR_KEY" "$PY" -c "
import os, urllib.request as u
u.urlopen(u.Request(os.environ['URL'] + '/_emulator/log', headers={'x-goog-api-key': os.environ['KEY']}), timeout=1)
" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  warn "the emulator did not start; its log ($log):"
  cat "$log" >&2
  stop_emulator
  return 1
}

stop_emulator() {
  if [[ -n $EMULATOR_PID ]]; then
    # It ends by our TERM (wait says 143): not a failure, also under `set -e`.
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=""
  fi
  if [[ -n $EMULATOR_KEY_DIR ]]; then
    rm -rf "$EMULATOR_KEY_DIR"
    EMULATOR_KEY_DIR=""
  fi
  return 0
}
