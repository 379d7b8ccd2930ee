#!/usr/bin/env bash
# Wine smoke test of the Windows x64 DLL: builds wine_host.exe (MinGW g++, -static),
# starts a Bot API on 127.0.0.1 (the project's tg-sandbox, or the Python stub), and runs
# the host under Wine in a fresh, throw-away prefix with no display.
#
#   package/wine-host/run.sh [--backend auto|sandbox|stub] [--no-install] <TelegramAddin_Windows_x64.dll | ZIP>
#
# auto (default): tg-sandbox when it builds (cargo build -p tg-sandbox), else the stub.
# With the sandbox, a user is created and /start-s the bot first, so that sendMessage has a
# chat, and the message is looked up afterwards through the sandbox's control API.
# HTTPS (SChannel): a throw-away CA and a certificate for 127.0.0.1 (openssl), and
# tls_front.py terminating TLS in front of the same Bot API; the host checks that GetMe fails
# without CaFile and succeeds with CaFile = the CA's PEM (SKIPPED under Wine 8, see wine_host.cpp).
# WINE_HOST_WINEDEBUG: WINEDEBUG for the host (default -all), e.g. +chain,+crypt.
# Exit code: the host's (0 = every step passed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/package/wine-host
WORK=${PACKAGE_TARGET_DIR:-$ROOT/target/package-build}/wine-host
BACKEND=auto
INSTALL=1
TARGET=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) BACKEND=${2:?}; shift ;;
    --no-install) INSTALL=0 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) TARGET=$1 ;;
  esac
  shift
done
[ -n "$TARGET" ] || TARGET=$ROOT/target/package/TelegramAddin.zip
log() { printf '[wine] %s\n' "$*" >&2; }
die() { printf '[wine] ERROR: %s\n' "$*" >&2; exit 1; }

TOKEN="123456:TEST-token_for-wine"
mkdir -p "$WORK"

# --- tools --------------------------------------------------------------------------------
need=()
command -v x86_64-w64-mingw32-g++ >/dev/null || need+=(g++-mingw-w64-x86-64)
command -v wine >/dev/null || need+=(wine64 wine)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  [ "$INSTALL" = 1 ] || die "missing: ${need[*]}"
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- the DLL ----------------------------------------------------------------------------
case "$TARGET" in
  *.zip)
    rm -rf "$WORK/zip" && mkdir -p "$WORK/zip"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$TARGET" "$WORK/zip"
    DLL=$(python3 - "$WORK/zip/MANIFEST.XML" <<'EOF'
import sys, xml.etree.ElementTree as ET
for c in ET.parse(sys.argv[1]).getroot():
    if c.get("os") == "Windows" and c.get("arch") == "x86_64":
        print(c.get("path"))
EOF
)
    [ -n "$DLL" ] || die "no Windows x86_64 component in $TARGET"
    DLL=$WORK/zip/$DLL
    ;;
  *) DLL=$TARGET ;;
esac
[ -f "$DLL" ] || die "no such DLL: $DLL"
DLL=$(cd "$(dirname "$DLL")" && pwd)/$(basename "$DLL")

# --- the host -----------------------------------------------------------------------------
EXE=$WORK/wine_host.exe
if [ ! -f "$EXE" ] || [ "$HERE/wine_host.cpp" -nt "$EXE" ] ||
  [ -n "$(find "$ROOT/tests/simulator/cpp/include" -newer "$EXE" -print -quit)" ]; then
  log "compiling wine_host.exe"
  # -static: no libstdc++/libgcc DLLs next to the exe. -municode: wmain (UTF-16 argv).
  x86_64-w64-mingw32-g++ -std=c++17 -O1 -Wall -Wextra -static -municode \
    -I"$ROOT/tests/simulator/cpp/include" "$HERE/wine_host.cpp" -o "$EXE"
fi

# --- the Bot API ------------------------------------------------------------------------
BACKEND_PID=""
FRONT_PID=""
PREFIX=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$FRONT_PID" ]; then kill "$FRONT_PID" 2>/dev/null || true; fi
  if [ -n "$BACKEND_PID" ]; then kill "$BACKEND_PID" 2>/dev/null || true; fi
  if [ -n "$PREFIX" ]; then
    WINEPREFIX=$PREFIX wineserver -k 2>/dev/null || true
    rm -rf "$PREFIX"
  fi
}
trap cleanup EXIT

http() { # http METHOD URL [JSON] -> prints the body
  python3 - "$@" <<'EOF'
import sys, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
EOF
}
json_get() { python3 -c 'import json, sys; v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "$1"; }

wait_for_line() { # wait_for_line FILE REGEX SECONDS -> prints the first match
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if grep -m1 -oE "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

SANDBOX_BIN=""
if [ "$BACKEND" != stub ]; then
  log "building tg-sandbox (cargo build -p tg-sandbox)"
  if (cd "$ROOT" && cargo build -q -p tg-sandbox --bin tg-sandbox 2>"$WORK/sandbox-build.log"); then
    SANDBOX_BIN=$(cd "$ROOT" && cargo metadata -q --format-version 1 --no-deps |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/tg-sandbox
  elif [ "$BACKEND" = sandbox ]; then
    tail -n 20 "$WORK/sandbox-build.log" >&2
    die "tg-sandbox does not build"
  else
    log "tg-sandbox does not build (see $WORK/sandbox-build.log); using the Python stub"
  fi
fi

# The port is read from these files: an old run's must not be read before the new process
# truncates them.
rm -f "$WORK/backend.out" "$WORK/front.out" "$WORK/front.err"
CHAT_ID=100200300
TEXT="Привет из Wine: 1С ✓"
POLL_TEXT="wine-poll-probe: из getUpdates"
if [ -n "$SANDBOX_BIN" ]; then
  "$SANDBOX_BIN" --port 0 --no-limits --token "$TOKEN=wine_test_bot" >"$WORK/backend.out" 2>&1 &
  BACKEND_PID=$!
  URL=$(wait_for_line "$WORK/backend.out" 'http://127\.0\.0\.1:[0-9]+' 20) || die "tg-sandbox did not start"
  log "tg-sandbox at $URL"
  CHAT_ID=$(http POST "$URL/control/users" '{"first_name":"Wine","username":"wine_user"}' | json_get result.id)
  http POST "$URL/control/start" "{\"user_id\": $CHAT_ID}" >/dev/null
  # A user message waits for getUpdates; the host polls and expects it as an ExternalEvent.
  http POST "$URL/control/send" "$(python3 -c 'import json, sys; print(json.dumps({"user_id": int(sys.argv[1]), "text": sys.argv[2]}))' "$CHAT_ID" "$POLL_TEXT")" >/dev/null
else
  python3 "$HERE/stub_bot_api.py" --port 0 --token "$TOKEN" --queue-text "$POLL_TEXT" >"$WORK/backend.out" 2>"$WORK/backend.err" &
  BACKEND_PID=$!
  PORT=$(wait_for_line "$WORK/backend.out" '^[0-9]+$' 20) || die "the stub did not start"
  URL=http://127.0.0.1:$PORT
  log "Python stub at $URL"
fi

# --- HTTPS in front of the Bot API --------------------------------------------------------
# A CA made for this run and a server certificate for 127.0.0.1 (IP SAN) signed by it. RSA:
# what company CAs mostly use, and what every SChannel (Wine's included) verifies.
TLS=$WORK/tls
rm -rf "$TLS" && mkdir -p "$TLS"
(
  cd "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.pem \
    -subj "/O=TelegramAddin wine test/CN=Wine Test Company Root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr \
    -subj "/CN=127.0.0.1"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 2 \
    -extfile server.ext -out server.pem
) >"$TLS/openssl.log" 2>&1 || { cat "$TLS/openssl.log" >&2; die "openssl could not make the test certificates"; }
HOSTPORT=${URL#http://}
HOSTPORT=${HOSTPORT%%/*}
python3 "$HERE/tls_front.py" --cert "$TLS/server.pem" --key "$TLS/server.key" --target "$HOSTPORT" \
  >"$WORK/front.out" 2>"$WORK/front.err" &
FRONT_PID=$!
FRONT_PORT=$(wait_for_line "$WORK/front.out" '^[0-9]+$' 20) || die "tls_front.py did not start"
HTTPS_URL=https://127.0.0.1:$FRONT_PORT
CA_WIN="Z:${TLS//\//\\}\\ca.pem"  # Wine maps / to Z:
log "HTTPS front at $HTTPS_URL -> $URL (CA $CA_WIN)"

# --- Wine ------------------------------------------------------------------------------------
PREFIX=$(mktemp -d /tmp/wine-addin.XXXXXX)
export WINEPREFIX=$PREFIX WINEDEBUG=${WINE_HOST_WINEDEBUG:--all} WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
log "running wine_host.exe on $(basename "$DLL") (WINEPREFIX=$PREFIX)"
start=$SECONDS
set +e
timeout 300 wine "$EXE" "Z:${DLL//\//\\}" "$URL" "$TOKEN" "$CHAT_ID" "$TEXT" "$POLL_TEXT" "$HTTPS_URL" "$CA_WIN" \
  2> >(grep -v -e 'rundll32.exe' -e 'has been updated' >&2) | tee "$WORK/host.out"
rc=${PIPESTATUS[0]}
set -e
log "wine_host.exe exited with $rc after $((SECONDS - start)) s"
if [ -s "$WORK/front.err" ]; then sed 's/^/  /' "$WORK/front.err" >&2; fi

if [ -n "$SANDBOX_BIN" ] && [ "$rc" = 0 ]; then
  # The sandbox's user side must have received the text.
  if http GET "$URL/control/messages?user_id=$CHAT_ID" | python3 -c '
import json, sys
text = sys.argv[1]
msgs = json.load(sys.stdin)["result"]["messages"]
sys.exit(0 if any(m.get("from_bot") and (m.get("json") or {}).get("text") == text for m in msgs) else 1)' "$TEXT"; then
    echo "PASS sandbox user $CHAT_ID received the text" | tee -a "$WORK/host.out"
  else
    echo "FAIL sandbox user $CHAT_ID did not receive the text" | tee -a "$WORK/host.out"
    rc=1
  fi
fi
# One closing line for the whole smoke test (the host's steps and the sandbox check).
passed=$(grep -c '^PASS' "$WORK/host.out" || true)
failed=$(grep -c '^FAIL' "$WORK/host.out" || true)
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1  # the host died before reporting
echo "wine: $passed passed, $failed failed"
exit "$rc"
