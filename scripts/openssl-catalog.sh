#!/usr/bin/env bash
# The catalog's built-in scenarios done the way a shell script with the openssl CLI does them:
# an RSA-2048 PKI from `openssl req`/`x509`/`ca`, then per scenario and TLS version the legs the
# harness drives (Fleet Server -> Elasticsearch first, then agent -> Fleet Server), each an
# `openssl s_server` and an `openssl s_client` that sends one HTTP request. A leg is "ok" when
# the response came back. `npm run bench` times this script against `fleet-tls run`.
# Prints one line per case and finally: cases <n> passed <m>.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

subj() { printf '/CN=%s/O=fleet-tls-harness' "$1"; }
ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 1825 -subj "$(subj "$1")" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
# leaf NAME ISSUER EKU SAN [KEY]: a new key unless KEY (an existing key file) is given.
leaf() {
  local name=$1 issuer=$2 eku=$3 san=$4 key=${5:-}
  if [[ -n $key ]]; then openssl req -new -key "$key" -out "$name.csr" -subj "$(subj "$name")"
  else openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$(subj "$name")" 2>/dev/null; fi
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$eku" "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -CAcreateserial -days 397 -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
}
LOOPBACK='DNS:localhost,IP:127.0.0.1,IP:::1'

for c in fleet-ca agent-ca es-ca rogue-ca; do ca "$c"; done
leaf fleet-cert fleet-ca serverAuth "$LOOPBACK,DNS:fleet-server"
leaf agent-cert agent-ca clientAuth 'DNS:elastic-agent'
leaf es-cert es-ca serverAuth "$LOOPBACK,DNS:elasticsearch"
leaf fleet-es-cert es-ca clientAuth 'DNS:fleet-server'
# The agent's key is encrypted with a passphrase file, as on Elastic's page.
openssl rand -hex 16 | tr -d '\n' > passphrase
openssl pkcs8 -topk8 -in agent-cert.key -out agent-cert.enc.key -v2 aes-256-cbc -passout file:passphrase
# Scenario variants keep their base leaf's key, as the harness's do.
leaf fleet-cert-other-host fleet-ca serverAuth 'DNS:fleet.example.internal' fleet-cert.key
leaf agent-cert-rogue rogue-ca clientAuth 'DNS:elastic-agent' agent-cert.key
# An expired certificate needs explicit dates: `openssl ca` takes them.
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial.txt\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n' > ca.cnf
: > index.txt; echo 01 > serial.txt
openssl req -new -key fleet-cert.key -out fleet-cert-expired.csr -subj "$(subj fleet-server)"
openssl ca -batch -notext -config ca.cnf -cert fleet-ca.crt -keyfile fleet-ca.key -in fleet-cert-expired.csr -out fleet-cert-expired.crt \
  -startdate "$(date -u -d '-400 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" -extfile fleet-cert.ext 2>/dev/null
cat fleet-ca.crt agent-ca.crt > fleet-trust.crt

legs=0
# leg TLS "SERVER ARGS" "CLIENT ARGS": prints ok or fail.
leg() {
  local version=$1 server=$2 client=$3 line port result
  # shellcheck disable=SC2086
  coproc SERVER { exec openssl s_server -accept 0 -naccept 1 -www "-$version" $server 2>&1; }
  local pid=$SERVER_PID
  while read -r line <&"${SERVER[0]}"; do [[ $line == ACCEPT* ]] && break; done
  port=${line##*:}
  # shellcheck disable=SC2086
  # The answer is read whole before matching: `grep -q` leaving early would SIGPIPE s_client, which
  # pipefail reports as a failed handshake.
  local answer
  answer=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername localhost "-$version" \
      -verify_return_error -ign_eof -quiet $client 2>/dev/null) || true
  if [[ $answer == "HTTP/1.0 200 ok"* ]]; then result=ok; else result=fail; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$result"
}

ES_ONE_WAY='-cert es-cert.crt -key es-cert.key -verify 1 -CAfile es-ca.crt'
ES_MUTUAL='-cert es-cert.crt -key es-cert.key -Verify 1 -verify_return_error -CAfile es-ca.crt'
FLEET_ONE_WAY='-cert fleet-cert.crt -key fleet-cert.key'
FLEET_MUTUAL='-cert fleet-cert.crt -key fleet-cert.key -Verify 1 -verify_return_error -CAfile fleet-trust.crt'
TO_ES='-CAfile es-ca.crt -verify_hostname localhost'
TO_ES_WITH_CERT="$TO_ES -cert fleet-es-cert.crt -key fleet-es-cert.key"
AGENT='-CAfile fleet-ca.crt -verify_hostname localhost'
AGENT_WITH_CERT="$AGENT -cert agent-cert.crt -key agent-cert.enc.key -pass file:passphrase"

cases=0 passed=0
# scenario ID  ES-SERVER  ES-CLIENT  EXPECT  FLEET-SERVER  AGENT  EXPECT
scenario() {
  local id=$1 es_server=$2 es_client=$3 es_expect=$4 fleet_server=$5 agent=$6 agent_expect=$7 version got
  for version in tls1_2 tls1_3; do
    got=$(leg "$version" "$es_server" "$es_client")
    legs=$((legs + 1))
    if [[ $got == ok ]]; then got="$got $(leg "$version" "$fleet_server" "$agent")"; legs=$((legs + 1)); else got="$got skipped"; fi
    cases=$((cases + 1))
    if [[ $got == "$es_expect $agent_expect" ]]; then passed=$((passed + 1)); echo "PASS $id $version"; else echo "FAIL $id $version: $got"; fi
  done
}
scenario flow.one-way "$ES_ONE_WAY" "$TO_ES" ok "$FLEET_ONE_WAY" "$AGENT" ok
scenario flow.mutual "$ES_MUTUAL" "$TO_ES_WITH_CERT" ok "$FLEET_MUTUAL" "$AGENT_WITH_CERT" ok
scenario agent-fleet.mutual.agent-cert-untrusted-ca "$ES_MUTUAL" "$TO_ES_WITH_CERT" ok "$FLEET_MUTUAL" \
  "$AGENT -cert agent-cert-rogue.crt -key agent-cert.enc.key -pass file:passphrase" fail
scenario agent-fleet.mutual.agent-has-no-cert "$ES_MUTUAL" "$TO_ES_WITH_CERT" ok "$FLEET_MUTUAL" "$AGENT" fail
scenario agent-fleet.one-way.agent-lacks-fleet-ca "$ES_ONE_WAY" "$TO_ES" ok "$FLEET_ONE_WAY" '-verify_hostname localhost' fail
scenario agent-fleet.one-way.fleet-cert-expired "$ES_ONE_WAY" "$TO_ES" ok '-cert fleet-cert-expired.crt -key fleet-cert.key' "$AGENT" fail
scenario agent-fleet.one-way.fleet-cert-wrong-host "$ES_ONE_WAY" "$TO_ES" ok '-cert fleet-cert-other-host.crt -key fleet-cert.key' "$AGENT" fail
scenario fleet-es.one-way.es-requires-client-cert "$ES_MUTUAL" "$TO_ES" fail "$FLEET_ONE_WAY" "$AGENT" skipped
scenario fleet-es.one-way.fleet-lacks-es-ca "$ES_ONE_WAY" '-verify_hostname localhost' fail "$FLEET_ONE_WAY" "$AGENT" skipped
echo "cases $cases passed $passed legs $legs"
