#!/usr/bin/env bash
# End-to-end: real clients (curl, and the official Python clients `openai`, `lorax-client` and
# `text-generation` from PyPI) against `lorax serve`.
# Usage: tests/e2e/run.sh BUILD_DIR FIXTURES_DIR
# Starts four servers on free loopback ports (stories260K with its adapters and an API key; the
# built-in demo; the demo serving one request at a time; stories260K with a ChatML template and
# its whole 512-token context), runs the checks, stops the servers with SIGINT and checks they
# exit 0.
# The Python clients live in a virtual environment made once per build folder
# (BUILD_DIR/e2e-venv), remade when requirements.txt changes.
set -euo pipefail
build=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)

# LORAX_E2E_PYTHON: a python that already has the clients (a machine without PyPI);
# LORAX_E2E_SERVE_ARGS: extra flags for both servers (e.g. --device cuda).
serve_args=(${LORAX_E2E_SERVE_ARGS:-})
python="${LORAX_E2E_PYTHON:-}"
if [ -z "$python" ]; then
  venv="$build/e2e-venv"
  if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"  # the stamp: installed and complete
  fi
  python="$venv/bin/python"
fi
model="$fixtures/models/stories260K"
logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$logs"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done
  echo "server on port $1 did not come up"; cat "$logs"/*.log; return 1
}

stories_port=$(free_port)
"$build/lorax" serve "${serve_args[@]}" --model "$model" --port "$stories_port" --api-key e2e-key --threads 1 \
  --adapter lora-ben="$model/adapters/lora-ben" --adapter lora-beach="$model/adapters/lora-beach" \
  >"$logs/stories.log" 2>&1 &
pids+=($!)
demo_port=$(free_port)
"$build/lorax" serve "${serve_args[@]}" --port "$demo_port" --threads 1 >"$logs/demo.log" 2>&1 &
pids+=($!)
# stories260K with a ChatML template and the model's whole context, for the structured-output
# statistics (structured.py).
chatml_port=$(free_port)
"$build/lorax" serve "${serve_args[@]}" --model "$model" --port "$chatml_port" --api-key e2e-key \
  --threads 1 --chat-template "$here/chatml.jinja" --max-total-tokens 512 --max-input-length 511 \
  --adapter lora-ben="$model/adapters/lora-ben" >"$logs/chatml.log" 2>&1 &
pids+=($!)
busy_port=$(free_port)
"$build/lorax" serve "${serve_args[@]}" --port "$busy_port" --threads 1 --max-concurrent-requests 1 \
  >"$logs/busy.log" 2>&1 &
pids+=($!)
wait_up "$stories_port"
wait_up "$demo_port"
wait_up "$busy_port"
wait_up "$chatml_port"

# Everything below is also kept in BUILD_DIR/e2e-report.txt (scripts/test.sh prints it).
exec > >(tee "$build/e2e-report.txt") 2>&1
fails=0
expect() {  # expect NAME COMMAND...: the command must succeed
  if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); fi
}
url="http://127.0.0.1:$stories_port"
post() {  # post PATH BODY [curl options...]: prints the response body
  curl -s -H "Authorization: Bearer e2e-key" -H "Content-Type: application/json" -d "$2" "${@:3}" "$url$1"
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
generate_base() { post /generate '{"inputs":"Once upon a time","parameters":{"max_new_tokens":12}}' | grep -q 'little girl named Lily'; }
generate_ben() { post /generate '{"inputs":"Once upon a time","parameters":{"max_new_tokens":12,"adapter_id":"lora-ben"}}' | grep -q 'little boy named Ben'; }
stream_ends() { post /generate_stream '{"inputs":"Once upon a time","parameters":{"max_new_tokens":5}}' -N | tail -n 3 | grep -q '"generated_text"'; }
no_key_401() { [ "$(status_of -H 'Content-Type: application/json' -d '{}' "$url/generate")" = 401 ]; }
malformed_4xx() {
  local code
  code=$(status_of -H "Authorization: Bearer e2e-key" -H "Content-Type: application/json" -d '{not json' "$url/generate")
  [ "$code" -ge 400 ] && [ "$code" -lt 500 ]
}

expect "curl /generate base tells of Lily" generate_base
expect "curl /generate lora-ben tells of Ben" generate_ben
expect "curl /generate_stream ends with generated_text" stream_ends
expect "curl without the key gets 401" no_key_401
expect "curl /health needs no key" curl -sf "$url/health" -o /dev/null
expect "curl malformed JSON gets 4xx" malformed_4xx

expect "python clients (openai, lorax-client, text-generation)" \
  "$python" "$here/clients.py" "$url" "http://127.0.0.1:$demo_port" \
  "http://127.0.0.1:$busy_port"
expect "structured output: 200 JSONSchemaBench schemas under load" \
  "$python" "$here/structured.py" "http://127.0.0.1:$chatml_port" \
  "$fixtures/jsonschemabench/maskbench-dev.jsonl.gz"

for i in "${!pids[@]}"; do
  kill -INT "${pids[$i]}"
  if wait "${pids[$i]}"; then echo "ok - server $i exits 0 on SIGINT"; else echo "not ok - server $i exit status"; fails=$((fails + 1)); fi
done
pids=()
[ "$fails" -eq 0 ] || { echo "$fails end-to-end checks failed"; exit 1; }
