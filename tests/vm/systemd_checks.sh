#!/bin/bash
# Runs INSIDE the systemd guest (tests/vm/systemd_guest.sh), as a oneshot unit
# after multi-user.target: drives waspd.service the way an operator would and
# prints one `ok   systemd: ...` or `FAIL systemd: ...` line per check, then
# powers the guest off. The kernel's own view (/proc/mitosis/active) is the
# judge of replication, never waspd's output.
set -u
PASS=0
FAILS=0
ok() { echo "ok   systemd: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL systemd: $*"; FAILS=$((FAILS + 1)); }
prop() { systemctl show -p "$1" --value waspd; }
# /proc/mitosis/active lists the hog's pid while it is replicated.
replicated() { grep -qw "$HOG" /proc/mitosis/active 2>/dev/null; }
# wait_for SECONDS COMMAND...: true once COMMAND succeeds within SECONDS (of
# the clock: each try of a systemctl takes long under TCG, so tries are not counted).
wait_for() {
  local until=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -lt "$until" ]; do
    "$@" && return 0
    sleep 0.25
  done
  "$@"
}
is_active() { [ "$(systemctl is-active waspd)" = active ]; }

echo "systemd-guest: checks start $(cut -d' ' -f1 /proc/uptime) s after boot"

# A memory-touching process on node 0: what waspd is to replicate.
systemd-run --unit=hog --quiet /usr/local/bin/vmtool hog 0 64
sleep 1
HOG=$(systemctl show -p MainPID --value hog)

# 1. start returns only after READY=1; the STATUS= line is shown.
systemctl start waspd
state=$(systemctl is-active waspd)
status=$(prop StatusText)
if [ "$state" = active ] && [ -n "$status" ]; then
  ok "systemctl start returns active after READY; Status: $status"
else
  fail "after start: $state, StatusText '$status'"
fi
if systemctl status waspd --no-pager 2>/dev/null | grep -q "Status: \".*processes replicated"; then
  ok "systemctl status shows waspd's STATUS line"
else
  fail "systemctl status has no waspd STATUS line"
fi

if wait_for 120 replicated; then
  ok "waspd replicated the hog (pid $HOG in /proc/mitosis/active)"
else
  fail "the hog was never replicated: $(tail -3 /proc/mitosis/active 2>/dev/null | tr '\n' ' ')"
fi

# 2. journald keeps waspd's lines at their priorities.
warn=$(journalctl -u waspd -p warning -o cat --no-pager | grep -c .)
info=$(journalctl -u waspd -p info -o cat --no-pager | grep -c .)
if [ "$warn" -ge 1 ] && [ "$info" -gt "$warn" ]; then
  ok "journalctl -u waspd -p warning: $warn of $info lines (software signals warned of)"
else
  fail "journal priorities: $warn warning lines, $info info lines"
fi

# 3. reload: the changed file is applied, nothing undone, same process.
pid=$(prop MainPID)
sed -i 's/^hysteresis = .*/hysteresis = 4000/' /etc/waspd/waspd.toml
systemctl reload waspd
if wait_for 20 sh -c 'journalctl -u waspd -o cat --no-pager | grep -q "configuration reloaded.*hysteresis 2000 -> 4000"'; then
  ok "systemctl reload applies the changed file: $(journalctl -u waspd -o cat --no-pager | grep "configuration reloaded" | tail -1)"
else
  fail "no reload line for the changed file"
fi
sleep 3
if [ "$(prop MainPID)" = "$pid" ] && is_active && replicated; then
  ok "after the reload: same pid $pid, active, the hog still replicated"
else
  fail "after the reload: pid $(prop MainPID) (was $pid), $(systemctl is-active waspd), replicated: $(replicated && echo yes || echo no)"
fi

# 4. SIGKILL: systemd restarts it, the new waspd adopts the replication.
before=$(prop NRestarts)
systemctl kill -s SIGKILL waspd
if wait_for 60 sh -c "[ \"\$(systemctl show -p NRestarts --value waspd)\" -gt $before ] && [ \"\$(systemctl is-active waspd)\" = active ]"; then
  ok "SIGKILL: systemd restarted waspd (NRestarts $(prop NRestarts))"
else
  fail "SIGKILL: NRestarts $(prop NRestarts), $(systemctl is-active waspd)"
fi
sleep 3
if replicated && journalctl -u waspd -o cat --no-pager | grep -q "adopt"; then
  ok "after the SIGKILL restart the replication is still on and adopted"
else
  fail "after the SIGKILL restart: replicated $(replicated && echo yes || echo no), adopted lines: $(journalctl -u waspd -o cat --no-pager | grep -c adopt)"
fi

# 5. SIGSTOP past WatchdogSec: systemd kills and restarts it; adopted again.
before=$(prop NRestarts)
wd=$(prop WatchdogUSec)
pid=$(prop MainPID)
restarted() {
  [ "$(prop NRestarts)" -gt "$before" ] && is_active && [ "$(prop MainPID)" != "$pid" ]
}
if [ "${pid:-0}" -gt 1 ]; then
  echo "systemd-guest: SIGSTOP to waspd (pid $pid) at $(cut -d' ' -f1 /proc/uptime) s"
  kill -STOP "$pid"
  if wait_for 150 restarted; then
    ok "SIGSTOP past WatchdogSec ($wd): systemd killed and restarted waspd (NRestarts $(prop NRestarts))"
  else
    fail "SIGSTOP: $(systemctl show -p ActiveState,SubState,Result,NRestarts waspd | tr '\n' ' ')"
    journalctl -u waspd -n 6 --no-pager | sed 's/^/  | /'
  fi
else
  fail "SIGSTOP: no main pid to stop ($pid)"
fi
echo "systemd-guest: after SIGSTOP at $(cut -d' ' -f1 /proc/uptime) s"
if journalctl -u waspd --no-pager | grep -qi "watchdog timeout"; then
  ok "the journal says: $(journalctl -u waspd --no-pager -o cat | grep -i "watchdog timeout" | tail -1)"
else
  fail "no watchdog timeout in the journal"
fi
if wait_for 20 replicated; then
  ok "after the watchdog restart the replication is still on"
else
  fail "after the watchdog restart the hog is not replicated"
fi

# 6. stop: the undo leaves /proc/mitosis/active empty.
systemctl stop waspd
if [ -z "$(tr -d '[:space:]' </proc/mitosis/active)" ] || ! replicated; then
  ok "systemctl stop: /proc/mitosis/active holds nothing of waspd's ($(grep -c . /proc/mitosis/active) lines)"
else
  fail "after stop /proc/mitosis/active: $(tr '\n' ' ' </proc/mitosis/active)"
fi

# 7. a bad configuration file: exit 2, and not restarted.
systemctl reset-failed waspd 2>/dev/null
before=$(prop NRestarts)
echo 'hysteresis = "soon"' >>/etc/waspd/waspd.toml
systemctl start waspd 2>/dev/null
sleep 8 # past RestartSec: a restart would have happened by now
code=$(prop ExecMainStatus)
after=$(prop NRestarts)
if [ "$code" = 2 ] && [ "$after" = "$before" ] && ! is_active; then
  ok "a bad config file: exit 2, NRestarts $after, $(systemctl is-active waspd); $(journalctl -u waspd -o cat --no-pager | grep -- '--config' | tail -1)"
else
  fail "a bad config file: exit $code, NRestarts $before -> $after, $(systemctl is-active waspd)"
fi

echo "systemd-guest: $(systemd-analyze time 2>/dev/null | head -1)"
echo "systemd-guest: $PASS passed, $FAILS failed"
echo "systemd-guest: done"
sync
systemctl poweroff --force --force
