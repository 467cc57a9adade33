#!/bin/bash
# Runs INSIDE the systemd guest (tests/vm/systemd_guest.sh), as a oneshot unit
# after multi-user.target: drives waspd.service the way an operator would and
# prints `plan N`, then one `ok   systemd: ...` or `FAIL systemd: ...` line per
# check, then powers the guest off. The kernel's own view (/proc/mitosis/active)
# is the judge of replication, never waspd's output.
set -u
PLAN=14
PASS=0
FAILS=0
ok() { echo "ok   systemd: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL systemd: $*"; FAILS=$((FAILS + 1)); }
say() { echo "systemd-guest: $* ($(cut -d' ' -f1 /proc/uptime) s after boot)"; }
prop() { systemctl show -p "$1" --value waspd; }
is_active() { [ "$(systemctl is-active waspd)" = active ]; }
# /proc/mitosis/active has one "Process: NAME (PID: n, TGID: n)" block per
# replicated process.
replicated() { grep -q "(PID: $HOG," /proc/mitosis/active 2>/dev/null; }
none_replicated() { ! grep -q 'Process:' /proc/mitosis/active; }
yesno() { "$@" && echo yes || echo no; }
# The unit's journal (waspd's lines and systemd's about it) from line $1 on:
# each check reads only what happened since it began.
journal_lines() { journalctl -u waspd -o cat --no-pager | grep -c .; }
journal_since() { journalctl -u waspd -o cat --no-pager | tail -n "+$(($1 + 1))"; }
# wait_for SECONDS COMMAND...: true once COMMAND succeeds within SECONDS of the
# clock (a systemctl call alone takes a second or more under TCG, so tries are
# not counted).
wait_for() {
  local until=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -lt "$until" ]; do
    "$@" && return 0
    sleep 1
  done
  "$@"
}

echo "plan $PLAN"
# Boot time: the monotonic clock starts with the kernel, so this is kernel +
# userspace up to multi-user.target.
reached=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)
echo "systemd-guest: boot to multi-user.target $(awk -v us="$reached" 'BEGIN { printf "%.1f", us / 1e6 }') s"
say "checks start"

# QEMU 7.2's multi-threaded TCG can run stale code when the kernel patches the
# static key of the first software perf event of a kind (waspd's --signals
# software), under a process faulting on another vCPU. One event of each kind
# is held before the hog starts, so no restart of waspd ever patches it.
systemd-run --unit=perfhold --quiet /usr/local/bin/vmtool perfhold
sleep 2
# A memory-touching process on node 0: what waspd is to replicate.
systemd-run --unit=hog --quiet /usr/local/bin/vmtool hog 0 64
sleep 1
HOG=$(systemctl show -p MainPID --value hog)

# 1. start returns only after READY=1; the STATUS= line is shown.
say "systemctl start waspd"
systemctl start waspd
state=$(systemctl is-active waspd)
status=$(prop StatusText)
say "start returned: $state"
if [ "$state" = active ] && [ -n "$status" ]; then
  ok "systemctl start returns with waspd active, its STATUS set (READY came first): $status"
else
  fail "after start: $state, StatusText '$status'"
fi
if systemctl status waspd --no-pager 2>/dev/null | grep -q 'Status: ".*processes replicated'; then
  ok "systemctl status shows waspd's STATUS line: $(systemctl status waspd --no-pager | grep -m1 'Status:' | sed 's/^ *//')"
else
  fail "systemctl status has no waspd STATUS line: $(systemctl status waspd --no-pager 2>&1 | head -8 | tr '\n' '|')"
fi

if wait_for 180 replicated; then
  ok "waspd replicated the hog (PID: $HOG in /proc/mitosis/active)"
else
  fail "the hog (pid $HOG) was never replicated: $(grep 'Process:' /proc/mitosis/active | tr '\n' ' ')"
fi
say "replicated: $(yesno replicated)"

# 2. journald keeps waspd's lines at their priorities: the software signals are
# warned of (<4>), the decisions and calls are info (<6>); journald took the
# prefix as the priority, so no line still shows it.
wlines() { journalctl -u waspd -t waspd -p "$1" -o cat --no-pager; }
warn=$(wlines 0..4 | grep -c .)
info=$(wlines 6..6 | grep -c .)
raw=$(wlines 0..7 | grep -cE '^<[0-7]>')
if [ "$warn" -ge 1 ] && [ "$info" -ge 1 ] && [ "$raw" = 0 ] && wlines warning | grep -q 'software signals'; then
  ok "journalctl -u waspd -p warning: $warn line(s) at warning or above (e.g. $(wlines warning | head -1 | cut -c1-90)...), $info at info"
else
  fail "journal priorities: $warn at warning or above, $info at info, $raw with a raw <N> prefix"
fi

# 3. reload: the changed file is applied, nothing undone, same process.
pid=$(prop MainPID)
mark=$(journal_lines)
sed -i 's/^hysteresis = .*/hysteresis = 4000/' /etc/waspd/waspd.toml
systemctl reload waspd
if wait_for 60 sh -c "journalctl -u waspd -o cat --no-pager | tail -n +$((mark + 1)) | grep -q 'configuration reloaded.*hysteresis 2000 -> 4000'"; then
  ok "systemctl reload applies the changed file: $(journal_since "$mark" | grep 'configuration reloaded' | tail -1)"
else
  fail "no reload line for the changed file; since the reload: $(journal_since "$mark" | tail -3 | tr '\n' '|')"
fi
sleep 3
if [ "$(prop MainPID)" = "$pid" ] && is_active && replicated; then
  ok "after the reload: same pid $pid, active, the hog still replicated"
else
  fail "after the reload: pid $(prop MainPID) (was $pid), $(systemctl is-active waspd), replicated: $(yesno replicated)"
fi

# 4. SIGKILL: systemd restarts it, the new waspd adopts the replication.
before=$(prop NRestarts)
pid=$(prop MainPID)
mark=$(journal_lines)
say "systemctl kill -s SIGKILL waspd (pid $pid)"
systemctl kill -s SIGKILL waspd
restarted() { [ "$(prop NRestarts)" -gt "$before" ] && is_active && [ "$(prop MainPID)" != "$pid" ]; }
# Exactly one restart: a new waspd that itself died on the way up was restarted
# again, and that is no pass.
once() { [ "$(prop NRestarts)" = $((before + 1)) ]; }
if wait_for 240 restarted && once; then
  ok "SIGKILL: systemd restarted waspd (NRestarts $before -> $(prop NRestarts), pid $pid -> $(prop MainPID))"
else
  fail "SIGKILL: $(systemctl show -p ActiveState,SubState,Result,NRestarts,MainPID waspd | tr '\n' ' ')"
fi
say "after SIGKILL: $(systemctl is-active waspd)"
adopted() { replicated && journal_since "$mark" | grep -q "ownership: adopted"; }
if wait_for 60 adopted; then
  ok "after the SIGKILL restart the hog is still replicated and the new waspd adopted it: $(journal_since "$mark" | grep -m1 'ownership: adopted' | cut -c1-140)"
else
  fail "after the SIGKILL restart: replicated $(yesno replicated), adoption lines: $(journal_since "$mark" | grep -c 'ownership: adopted')"
fi

# 5. SIGSTOP past WatchdogSec: systemd kills and restarts it; adopted again.
before=$(prop NRestarts)
wd=$(prop WatchdogUSec)
pid=$(prop MainPID)
mark=$(journal_lines)
if [ "${pid:-0}" -gt 1 ]; then
  say "SIGSTOP to waspd (pid $pid), WatchdogSec $wd"
  kill -STOP "$pid"
  if wait_for 300 restarted && once; then
    ok "SIGSTOP past WatchdogSec ($wd): systemd killed and restarted waspd (NRestarts $before -> $(prop NRestarts), pid $pid -> $(prop MainPID))"
  else
    fail "SIGSTOP: $(systemctl show -p ActiveState,SubState,Result,NRestarts,MainPID waspd | tr '\n' ' ')"
    journal_since "$mark" | tail -6 | sed 's/^/  | /'
  fi
else
  fail "SIGSTOP: no main pid to stop ($pid)"
fi
say "after SIGSTOP: $(systemctl is-active waspd)"
if journal_since "$mark" | grep -qi "watchdog timeout"; then
  ok "the journal says why: $(journal_since "$mark" | grep -i "watchdog timeout" | tail -1)"
else
  fail "no watchdog timeout in the journal since the SIGSTOP"
fi
if wait_for 60 adopted; then
  ok "after the watchdog restart the hog is still replicated and adopted: $(journal_since "$mark" | grep -m1 'ownership: adopted' | cut -c1-140)"
else
  fail "after the watchdog restart: replicated $(yesno replicated), adoption lines: $(journal_since "$mark" | grep -c 'ownership: adopted')"
fi

# 6. stop: the undo leaves /proc/mitosis/active empty.
say "systemctl stop waspd"
systemctl stop waspd
if none_replicated; then
  ok "systemctl stop: /proc/mitosis/active is empty ($(grep -m1 'No active' /proc/mitosis/active)); $(systemctl is-active waspd)"
else
  fail "after stop /proc/mitosis/active: $(grep 'Process:' /proc/mitosis/active | tr '\n' ' ')"
fi

# 7. a bad configuration file (a value waspd refuses): exit 2, and not
# restarted. A manual start resets NRestarts, so any count above 0 is an
# automatic restart.
systemctl reset-failed waspd 2>/dev/null
sed -i 's/^hysteresis = .*/hysteresis = "soon"/' /etc/waspd/waspd.toml
say "systemctl start waspd with a bad config file"
systemctl start waspd 2>/dev/null
sleep 10 # past RestartSec: a restart would have happened by now
code=$(prop ExecMainStatus)
restarts=$(prop NRestarts)
if [ "$code" = 2 ] && [ "$restarts" = 0 ] && ! is_active; then
  ok "a bad config file: exit 2, NRestarts=$restarts, $(systemctl is-active waspd); $(journalctl -u waspd -o cat --no-pager | grep -- '--config' | tail -1)"
else
  fail "a bad config file: exit $code, NRestarts=$restarts, $(systemctl is-active waspd)"
fi

# 8. Every exit of waspd was one this script caused: the SIGKILL, the watchdog's
# SIGABRT and the bad file's exit 2. A panic, a crash or another restart is a
# failure, even when systemd's restart hid it from the checks above.
exits=$(journalctl -u waspd -o cat --no-pager | grep -c 'Main process exited')
crashes=$(journalctl -u waspd -o cat --no-pager | grep -E 'panicked|malloc\(\)|Fatal error|status=11/SEGV|status=1/FAILURE' | head -3)
if [ "$exits" = 3 ] && [ -z "$crashes" ]; then
  ok "waspd exited only when told to: 3 exits (SIGKILL, the watchdog, the bad file), no crash"
else
  fail "waspd exited $exits times (3 were caused by the checks): $(echo "$crashes" | tr '\n' '|' | cut -c1-300)"
  journalctl -u waspd -o short-monotonic --no-pager | grep -E 'Main process exited|panicked|malloc|Fatal' | sed 's/^/  | /'
fi

say "checks end"
echo "systemd-guest: $PASS passed, $FAILS failed"
echo "systemd-guest: done"
sync
systemctl poweroff --force --force
