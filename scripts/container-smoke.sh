#!/usr/bin/env bash
# Container smoke test: builds the image from the Dockerfile, runs docker-compose.yml for real with
# podman-compose, and checks what a deployment relies on:
#   healthy within seconds (the api service's own healthcheck); the process is not root, the root
#   filesystem is read-only, and the secrets are not in the container's environment (they come as
#   files); a signed round trip (200) and a bad signature (401) through the published port; SIGTERM
#   stops it with exit code 0; after `down` and `up` reads need the read token, the message is still
#   stored (the named volume works) and a second POST of it is a duplicate; the backup command
#   runs in the image.
# Always tears down (containers, network, volume). Exits non-zero on the first failed check.
#
# Takes no arguments. Needs podman, podman-compose, curl, jq, openssl and node (any version, only to
# pick a free port); ../shared/tools/container-setup prepares a machine without Docker. Optional
# environment: API_PORT (default: a free port). Not part of .ci/run: `npm test` is CI's unit of truth.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in podman podman-compose curl jq openssl node; do
  command -v "$tool" >/dev/null || { echo "container-smoke: missing $tool" >&2; exit 2; }
done

project="webhook-smoke-$$"
work=$(mktemp -d)
compose_log="$work/compose.log"
# Throwaway secrets for this run only, as the files compose hands over as Docker secrets; they never
# leave this process tree and the temp dir.
WEBHOOK_SECRET=$(openssl rand -hex 32)
READ_TOKEN=$(openssl rand -hex 32)
SECRETS_DIR="$work/secrets"
mkdir -m 700 "$SECRETS_DIR"
printf '%s\n' "$WEBHOOK_SECRET" > "$SECRETS_DIR/webhook_secret"
printf '%s\n' "$READ_TOKEN" > "$SECRETS_DIR/read_tokens"
: > "$SECRETS_DIR/admin_tokens"
API_PORT=${API_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
export SECRETS_DIR API_PORT
base="http://127.0.0.1:$API_PORT"

say() { printf 'container-smoke: %s\n' "$*"; }
fail() {
  say "FAIL: $*" >&2
  exit 1
}
# podman-compose echoes every podman command line, secret included: keep that in the temp log and
# show it (secret masked) only when something fails.
compose() { podman-compose -p "$project" "$@" >>"$compose_log" 2>&1; }
teardown() {
  local status=$?
  if ((status != 0)); then
    say "compose output (secret masked), then the service's log:" >&2
    sed "s/$WEBHOOK_SECRET/***/g" "$compose_log" | tail -20 >&2 || true
    podman logs --tail 20 "$(api_container)" >&2 || true
  fi
  compose down -v -t 10 || true
  rm -rf "$work"
  exit "$status"
}
trap teardown EXIT

api_container() { podman ps -aq --filter "label=com.docker.compose.project=$project" --filter label=com.docker.compose.service=api; }

# The api service's healthcheck command exactly as docker-compose.yml declares it: in the x-service
# anchor the service merges in, whose `test:` is a JSON array. Only that block is read, as other
# services (postgres) declare healthchecks of their own.
# It is run with `podman exec` because podman-compose 1.0 rewrites CMD healthchecks into `/bin/sh -c`,
# which an image without a shell cannot run; Docker Compose runs the declared command as is.
mapfile -t tests < <(sed -n '/^x-service:/,/^[^ #]/ s/^ *test: *\(\[.*\]\) *$/\1/p' docker-compose.yml)
((${#tests[@]} == 1)) || fail "expected one healthcheck test in docker-compose.yml's x-service block, found ${#tests[@]}"
sed -n '/^  api:/,/^  [^ #]/p' docker-compose.yml | grep 'healthcheck:' >/dev/null &&
  fail "the api service declares a healthcheck of its own: the probe reads x-service's"
mapfile -t probe < <(jq -r 'if .[0] == "CMD" then .[1:][] else error("expected a CMD healthcheck") end' <<<"${tests[0]}")
((${#probe[@]} > 0)) || fail "the healthcheck test in docker-compose.yml's x-service block is empty"

wait_healthy() {
  local container
  for _ in $(seq 60); do
    container=$(api_container)
    if [[ -n $container ]] && podman exec "$container" "${probe[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  fail "not healthy within 30 s"
}

# Prints "<status> <body>" for a POST of body $1 to /webhook signed with secret $2.
post_signed() {
  local body=$1 secret=$2 signature
  signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')
  curl -sS -o "$work/body" -w '%{http_code}' -X POST "$base/webhook" \
    -H 'Content-Type: application/json' -H "X-Signature: $signature" --data-raw "$body"
  printf ' %s\n' "$(cat "$work/body")"
}

expect() {
  local what=$1 actual=$2 expected=$3
  [[ $actual == "$expected" ]] || fail "$what: expected '$expected', got '$actual'"
  say "ok: $what"
}

say "building the image and starting project $project on port $API_PORT"
compose --podman-build-args=--pull=never build
# Only the SQLite service: the postgres profile's services are not part of this check (and
# podman-compose 1.0 does not read profiles).
compose up -d api
wait_healthy
say "ok: healthy"

container=$(api_container)
expect "process runs as uid 65532, not root" "$(podman top "$container" huser | sed -n 2p | tr -d ' ')" 65532
expect "root filesystem is read-only" "$(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container")" true
podman inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$container" | grep -e "$WEBHOOK_SECRET" -e "$READ_TOKEN" >/dev/null &&
  fail "a secret is in the container's environment"
say "ok: secrets come as files, not in the container's environment"

id="smoke-$(date +%s)-$RANDOM"
body=$(printf '{"message_id":"%s","from":"+919876543210","to":"+14155550100","ts":"2025-01-15T10:00:00Z","text":"Hello from the container smoke"}' "$id")
expect "signed POST is stored" "$(post_signed "$body" "$WEBHOOK_SECRET")" '200 {"status":"ok"}'
expect "wrong signature is refused" "$(post_signed "$body" "not-the-secret")" '401 {"detail":"invalid signature"}'

compose stop -t 10
expect "SIGTERM stops the service with exit code 0" "$(podman inspect -f '{{.State.ExitCode}}' "$container")" 0
# (grep without -q after a pipe: with pipefail, an early exit of grep would fail `podman logs`.)
podman logs "$container" 2>/dev/null | grep '"msg":"stopped"' >/dev/null || fail "no \"stopped\" log line after SIGTERM"

compose down -t 10
compose up -d api
wait_healthy
say "ok: healthy again after down and up"
container=$(api_container)
expect "reads need the token" "$(curl -sS -o /dev/null -w '%{http_code}' "$base/messages")" 401
listed=$(curl -sS -H "Authorization: Bearer $READ_TOKEN" "$base/messages?limit=100" | jq -r --arg id "$id" '.data[] | select(.message_id == $id) | .text')
expect "GET /messages lists the message after down and up" "$listed" "Hello from the container smoke"
expect "the same message again is acknowledged" "$(post_signed "$body" "$WEBHOOK_SECRET")" '200 {"status":"ok"}'
# The new container's log says whether that POST found the row the first container stored.
podman logs "$container" 2>/dev/null | grep "\"message_id\":\"$id\"" | grep '"result":"duplicate"' >/dev/null ||
  fail "the message did not survive down and up: the POST was not a duplicate"
say "ok: the message survived down and up (named volume)"
backup=$(podman exec "$container" /nodejs/bin/node /app/src/backup.ts /data/smoke-backup.db | jq -r '.msg + " " + (.messages | tostring)')
expect "the backup command runs in the image" "$backup" "backup written 1"

base_image=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' Dockerfile)
image_bytes=$(podman image inspect -f '{{.Size}}' webhook-ingest:latest)
base_bytes=$(podman image inspect -f '{{.Size}}' "$base_image")
say "image: $image_bytes bytes, $((image_bytes - base_bytes)) on top of $base_image; memory now: $(podman stats --no-stream --format '{{.MemUsage}}' "$container")"
say "PASS"
