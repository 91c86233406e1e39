#!/usr/bin/env bash
# Before `npm test`: the suite holds the fakes against real programs nobody here wrote, so it needs
# them. As root on Debian it installs what is missing (as .ci/run does); elsewhere it stops with one
# line naming the packages. It never skips: a missing peer would report agreement nobody checked.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# One line per peer: the command that proves it is there, then the Debian packages that bring it.
# Keep this list the only place that names test peers (tests find the commands with requireTool).
peers=$(grep -v '^#' "$here/test-peers.txt" | sed '/^[[:space:]]*$/d')

missing=()
while read -r probe packages; do
  if [ -x "$probe" ] || command -v "$probe" >/dev/null 2>&1; then continue; fi
  for p in $packages; do missing+=("$p"); done
done <<< "$peers"

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing test peers: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Slim Debian images drop this directory, and the JDK's post-install script fails without it.
  mkdir -p /usr/share/man/man1
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  exit 0
fi
echo "npm test needs real peers that are missing: apt-get install ${missing[*]} (as root), or run .ci/run" >&2
exit 1
