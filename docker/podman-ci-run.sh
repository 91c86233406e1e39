#!/usr/bin/env bash
# The part of docker/podman-ci.sh that runs containers: started by it inside `unshare --net`
# (only this namespace's loopback and the bridges podman makes in it), with ROOT, WORK, IMAGE and
# the CONTAINERS_* variables set. Not meant to be run by hand.
set -euo pipefail
: "${ROOT:?}" "${WORK:?}" "${IMAGE:?}"
ip link set lo up
cd "$ROOT/docker"

SOCK=$WORK/podman.sock; rm -f "$SOCK"
podman system service --time=0 "unix://$SOCK" >"$WORK/podman-service.log" 2>&1 & SERVICE=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
export DOCKER_HOST=unix://$SOCK FLEET_TLS_IMAGE=$IMAGE
# No systemd here, so podman never runs healthchecks by itself: run them, so that
# `depends_on: condition: service_healthy` (and our HEALTHCHECK) mean something.
( while sleep 1; do
    for c in $(podman ps -q --filter health=starting 2>/dev/null) $(podman ps -q --filter health=unhealthy 2>/dev/null); do
      podman healthcheck run "$c" >/dev/null 2>&1 || true
    done
  done ) & HEALTH=$!

P=fth
dc() { docker-compose -p "$P" -f compose.yaml "$@"; }
cleanup() {
  dc --profile load --profile report down -v -t 2 >/dev/null 2>&1 || true
  dc --env-file mutual.env --profile load --profile report down -v -t 2 >/dev/null 2>&1 || true
  dc --env-file proxy.env --profile proxy --profile report down -v -t 2 >/dev/null 2>&1 || true
  dc --env-file proxy-secure.env --profile proxy --profile report down -v -t 2 >/dev/null 2>&1 || true
  kill "$HEALTH" "$SERVICE" 2>/dev/null || true
  wait "$SERVICE" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "podman-ci: FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
container() { podman ps -a --filter "label=com.docker.compose.project=$P" --filter "label=com.docker.compose.service=$1" --format '{{.Names}}'; }
# Waits for every container of a one-shot service to exit; prints the non-zero exit codes.
wait_exited() {
  local service=$1 bad=0
  for c in $(container "$service"); do
    rc=$(podman wait "$c")
    [ "$rc" = 0 ] || { echo "podman-ci: $c exited $rc"; podman logs "$c" | tail -n 5; bad=1; }
  done
  return $bad
}

# Lint: both flows' files, as docker-compose 1.29 reads them.
dc config -q || fail "docker-compose config -q (one-way)"
dc --env-file mutual.env config -q || fail "docker-compose config -q (mutual)"
dc --env-file proxy.env --profile proxy config -q || fail "docker-compose config -q (proxy)"
dc --env-file proxy-secure.env --profile proxy config -q || fail "docker-compose config -q (proxy-secure)"
echo "podman-ci: docker-compose config -q passes for the one-way, mutual, proxy and proxy-secure env files"

# One flow: up with N agents, every agent enrolled/checked in/shipped, the report merged.
flow() {
  local name=$1 agents=$2; shift 2
  local t; t=$(now)
  dc "$@" up -d --scale elastic-agent="$agents" >"$WORK/up-$name.log" 2>&1 || { cat "$WORK/up-$name.log"; fail "$name: up"; }
  local up; up=$(since "$t")
  wait_exited elastic-agent || fail "$name: an agent failed"
  [ "$(container elastic-agent | wc -l)" = "$agents" ] || fail "$name: expected $agents agent containers"
  local first; first=$(podman run --rm -v "${P}_results:/results:ro" --entrypoint node "$IMAGE" -e '
    const fs = require("fs"); const at = fs.readdirSync("/results").filter((f) => f.endsWith(".json") && !f.endsWith(".load.json"))
      .map((f) => JSON.parse(fs.readFileSync("/results/" + f, "utf8")).enrolledAt).filter(Boolean).map(Date.parse);
    console.log(Math.min(...at) / 1000)' 2>/dev/null)
  echo "podman-ci: $name: up -d returned in $up s; first enrollment $(awk -v a="$t" -v b="$first" 'BEGIN { printf "%.1f", b - a }') s after up started"
  dc "$@" run --rm report >"$WORK/report-$name.log" 2>&1 || { cat "$WORK/report-$name.log"; fail "$name: report"; }
  grep -q "agents            $agents of $agents enrolled, checked in and shipped" "$WORK/report-$name.log" || { cat "$WORK/report-$name.log"; fail "$name: report says otherwise"; }
  echo "podman-ci: $name: $(grep agents "$WORK/report-$name.log")"
}

# 1. One-way, three agents, and what the host side of a published port sees.
flow one-way 3
status=$(curl -sS --max-time 10 --cacert <(podman run --rm -v "${P}_certs:/certs:ro" --entrypoint cat "$IMAGE" /certs/fleet-ca.crt 2>/dev/null) \
  --resolve fleet-server:8220:127.0.0.1 https://fleet-server:8220/api/status) || fail "published port 8220 not reachable from the host side"
[ "$status" = '{"name":"fleet-server","status":"HEALTHY"}' ] || fail "published /api/status said $status"
echo "podman-ci: host side -> published 127.0.0.1:8220 verified with fleet-ca as fleet-server: $status"

# 2. A failure across containers: an agent without FLEET_CA trusts only the system roots.
# (It keeps its result to itself: HARNESS_RESULT_DIR empty, so the reports below count only the others.)
dc run --name fth-agent-no-ca -e FLEET_CA= -e HARNESS_RESULT_DIR= elastic-agent >/dev/null 2>&1 && fail "the agent without FLEET_CA enrolled"
# Logs go to a file before grep: under pipefail, `grep -q` leaving early would fail the pipe by SIGPIPE.
podman logs fth-agent-no-ca >"$WORK/agent-no-ca.log" 2>&1 || true
grep -q 'fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority' "$WORK/agent-no-ca.log" \
  || { tail "$WORK/agent-no-ca.log"; fail "the agent's log lacks Go's unknown-authority error"; }
podman logs "$(container fleet-server)" >"$WORK/fleet-server.log" 2>&1 || true
grep -q 'http: TLS handshake error from .*: remote error: tls: bad certificate' "$WORK/fleet-server.log" \
  || { tail "$WORK/fleet-server.log"; fail "Fleet Server's log lacks the handshake error"; }
podman rm -f fth-agent-no-ca >/dev/null
echo "podman-ci: agent without FLEET_CA: its log has 'x509: certificate signed by unknown authority', Fleet Server's has 'remote error: tls: bad certificate'"

# 3. Load from two containers against the one Fleet Server, merged by histogram. Kept small (CI
# cost); on a busy machine some handshakes may time out: that is a load result, reported as errors,
# so what must hold is that both containers wrote figures and the merge counted handshakes.
LOAD_AGENTS=6 LOAD_CONCURRENCY=2 LOAD_DURATION=3s dc --profile load up -d --scale load=2 load >/dev/null 2>&1 || fail "load: up"
wait_exited load || echo "podman-ci: load: a load container saw errors (its figures are still merged)"
dc run --rm report >"$WORK/report-load.log" 2>&1 || true
grep -q "load containers   2" "$WORK/report-load.log" || { cat "$WORK/report-load.log"; fail "load: not two load results"; }
grep -Eq "^handshakes +[1-9][0-9]* in" "$WORK/report-load.log" || { cat "$WORK/report-load.log"; fail "load: no handshake counted"; }
sed -n '/load containers/,$p' "$WORK/report-load.log" | sed 's/^/podman-ci: load: /'
dc --profile load down -v -t 2 >/dev/null 2>&1

# 4. Mutual TLS: Fleet Server requires agent-cert; Fleet Server presents fleet-es-cert to Elasticsearch.
flow mutual 2 --env-file mutual.env
podman logs "$(container fleet-server)" >"$WORK/fleet-server-mutual.log" 2>&1 || true
grep -q 'Elastic Agent successfully enrolled' "$WORK/fleet-server-mutual.log" || fail "mutual: Fleet Server logged no enrollment"
dc --env-file mutual.env down -v -t 2 >/dev/null 2>&1

# 5. The proxy hop: two agents enroll and check in through the forward proxy (`fleet-tls proxy
# --forward-proxy 8888` on host name `proxy`, tinyproxy's log), and ship to Elasticsearch directly.
# Their names resolve late while containers join (aardvark-dns): the agents retry a tunnel that did
# not open, and the proxy resolves fleet-server per CONNECT, as tinyproxy does.
flow proxy 2 --env-file proxy.env --profile proxy
podman logs "$(container proxy)" >"$WORK/proxy.log" 2>&1 || true
connects=$(grep -c 'Request (file descriptor [0-9]*): CONNECT fleet-server:8220 HTTP/1.1' "$WORK/proxy.log" || true)
established=$(grep -c 'Established connection to host "fleet-server" using file descriptor' "$WORK/proxy.log" || true)
# Each agent: one CONNECT for enroll, one for checkin (each on its own connection, as the agent's two clients).
[ "$connects" -ge 4 ] && [ "$established" -ge 4 ] || { tail -n 20 "$WORK/proxy.log"; fail "proxy: $connects CONNECT fleet-server:8220 lines, $established established (want 4 or more each)"; }
grep -q 'agent → proxy  *2 of 2 ok  (CONNECT fleet-server:8220 answered 200)' "$WORK/report-proxy.log" \
  && grep -q 'agent → fleet-server via proxy  *2 of 2 ok' "$WORK/report-proxy.log" \
  || { cat "$WORK/report-proxy.log"; fail "proxy: the report lacks the proxy hop's legs"; }
echo "podman-ci: proxy: its log has $connects 'CONNECT fleet-server:8220' requests, $established established; the report:"
sed -n '/^legs/,$p' "$WORK/report-proxy.log" | sed 's/^/podman-ci: proxy:   /'
dc --env-file proxy.env --profile proxy down -v -t 2 >/dev/null 2>&1

# 6. Fleet Server behind the secure proxy: the agents' TLS (mutual, agent-cert) ends at `proxy`, whose
# fleet-cert names `proxy` (EXTRA_SANS); nginx 1.22's default makes that leg TLS 1.2 where Fleet Server
# itself would answer 1.3, so the legs show whom the agents really talked to.
flow proxy-secure 2 --env-file proxy-secure.env --profile proxy
grep -q 'agent → fleet-server  *2 of 2 ok  (TLS 1.2, CN=fleet-server,O=fleet-tls-harness, client CN=elastic-agent' "$WORK/report-proxy-secure.log" \
  || { cat "$WORK/report-proxy-secure.log"; fail "proxy-secure: the agents' leg is not TLS 1.2 with agent-cert (the proxy's)"; }
podman logs "$(container proxy)" >"$WORK/secure-proxy.log" 2>&1 || true
grep -q 'fake secure proxy   https://0.0.0.0:8220  -> https://fleet-server:8220  (client authentication: required; upstream verified)' "$WORK/secure-proxy.log" \
  || { tail "$WORK/secure-proxy.log"; fail "proxy-secure: the proxy did not start in front of fleet-server"; }
echo "podman-ci: proxy-secure: $(grep 'agent → fleet-server' "$WORK/report-proxy-secure.log" | sed 's/^legs *//')"
dc --env-file proxy-secure.env --profile proxy down -v -t 2 >/dev/null 2>&1

[ -z "$(podman ps -aq --filter "label=com.docker.compose.project=$P")" ] || fail "containers left behind"
echo "podman-ci: both flows, the failure, the published port, the load and both proxy deployments passed; everything torn down"
