#!/usr/bin/env bash
# Clean-room install check for the .deb, on this machine, without changing it:
#
#   sudo installer/linux/try_install.sh dist/teams-genesys-presence_*.deb /tmp/try-install
#
# It re-runs itself in a private mount namespace and lays a throwaway overlay over /usr, /etc, /opt and
# /var, so dpkg really installs and purges the package (maintainer scripts, triggers and all) while
# every write lands in WORKDIR/upper and vanishes with the namespace. Other users of the machine see
# nothing of it. Inside it:
#   1. lists every file under /usr /etc /opt;
#   2. if POLICY_FILE is set, installs it as /etc/xdg/TeamsGenesysPresence/policy.toml (as IT would);
#   3. dpkg -i; runs `tray-agent --version` (as root and as nobody), the policy check, the login
#      check, desktop-file-validate, and, if SIMULATOR_URL and SIMULATOR_CA are set,
#      `tray-agent doctor` against that simulator;
#   4. dpkg --purge; removes the policy file again; lists the files again and fails on any difference.
# Output: sections headed "== name", then "RESULT: clean" or "RESULT: LEFTOVERS".
set -euo pipefail

deb=$(realpath "$1")
work=$(realpath -m "$2")
package=teams-genesys-presence
policy_target=/etc/xdg/TeamsGenesysPresence/policy.toml

if [ -z "${TRY_INSTALL_INSIDE:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "run as root (it uses a private mount namespace)" >&2; exit 2; }
  case "$work/" in /usr/*|/etc/*|/opt/*|/var/*) echo "WORKDIR must not be under /usr /etc /opt /var" >&2; exit 2;; esac
  mkdir -p "$work"
  exec unshare --mount --propagation private env TRY_INSTALL_INSIDE=1 "$0" "$deb" "$work"
fi

for dir in usr etc opt var; do
  mkdir -p "$work/upper/$dir" "$work/scratch/$dir"
  mount -t overlay "try-install-$dir" -o "lowerdir=/$dir,upperdir=$work/upper/$dir,workdir=$work/scratch/$dir" "/$dir"
done

snapshot() { find /usr /etc /opt -xdev \( -type f -o -type l -o -type d \) -print 2>/dev/null | LC_ALL=C sort; }
section() { printf '\n== %s\n' "$1"; }

snapshot > "$work/before.txt"

if [ -n "${POLICY_FILE:-}" ]; then
  install -D -o root -g root -m 0644 "$POLICY_FILE" "$policy_target"
fi

section "install"
start=$EPOCHREALTIME
dpkg -i "$deb"
echo "installed in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }") s"
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$package"

section "version"
tray-agent --version

section "version as nobody"
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent tray-agent --version

section "policy"
/opt/$package/venv/bin/python -m tray_agent.config.policy || true

section "start at login"
# What the autostart entry runs; with --version the agent prints its version instead of starting.
started=$(/opt/$package/bin/start-at-login --version)
if [ -n "$started" ]; then echo "the autostart entry started: $started"; else echo "the autostart entry did not start the agent (policy)"; fi

section "desktop entries"
for entry in /usr/share/applications/tray-agent.desktop /etc/xdg/autostart/tray-agent.desktop; do
  desktop-file-validate "$entry"
  echo "valid: $entry"
done

if [ -n "${SIMULATOR_URL:-}" ]; then
  section "doctor"
  mkdir -p "$work/home"
  TRAY_AGENT_HOME="$work/home" tray-agent doctor --simulator "$SIMULATOR_URL" --ca "$SIMULATOR_CA" || true
fi

section "purge"
dpkg --purge "$package"
rm -f "$policy_target" && rmdir --ignore-fail-on-non-empty "$(dirname "$policy_target")" 2>/dev/null || true
if dpkg-query -W "$package" >/dev/null 2>&1; then dpkg-query -W -f='${Status}\n' "$package"; fi

section "leftovers"
snapshot > "$work/after.txt"
if diff "$work/before.txt" "$work/after.txt" > "$work/leftovers.txt"; then
  echo "RESULT: clean"
else
  cat "$work/leftovers.txt"
  echo "RESULT: LEFTOVERS"
  exit 1
fi
