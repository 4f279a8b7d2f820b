# Shared by setup.sh and run.sh (sourced): one terminal line per step, the tools' output in $LOG.

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m' "$*"; else printf '%s' "$*"; fi; }

# The step being followed: a background command ignores Ctrl-C, so kill_step (from an EXIT or
# INT trap) ends it with the script.
STEP_PID=
kill_step() { if [ -n "$STEP_PID" ]; then kill "$STEP_PID" 2>/dev/null || true; STEP_PID=; fi; }

# follow PID MESSAGE LOGFILE [REGEX [STARTED]]: wait for a background step. On a terminal one line
# counts the seconds since STARTED (default: now) and the lines of LOGFILE matching REGEX (e.g.
# pip's "Collecting"); then "MESSAGE done (N s)". On failure: the end of LOGFILE, and the script
# stops with the step's status.
follow() {
    local pid=$1 msg=$2 log=$3 count=${4:-} t0=${5:-$SECONDS} rc extra
    STEP_PID=$pid
    while kill -0 "$pid" 2>/dev/null; do
        if [ -t 1 ]; then
            extra=''
            [ -n "$count" ] && extra=", $(grep -c -E "$count" "$log" || true) packages"
            printf '\r%s %s' "$(bold "==> $msg")" "($((SECONDS - t0)) s$extra)"
        fi
        sleep 1
    done
    set +e
    wait "$pid"
    rc=$?
    set -e
    STEP_PID=
    if [ -t 1 ]; then printf '\r\033[K'; fi
    if [ "$rc" -ne 0 ]; then
        echo "$(bold "==> $msg") failed (status $rc); the end of $log:" >&2
        tail -n 25 "$log" >&2
        exit "$rc"
    fi
    echo "$(bold "==> $msg") done ($((SECONDS - t0)) s)"
}

# quietly MESSAGE [--count REGEX] CMD...: run CMD with its output appended to $LOG, and follow it.
quietly() {
    local msg=$1 count=''
    shift
    if [ "$1" = "--count" ]; then count=$2; shift 2; fi
    echo "== $msg" >>"$LOG"
    "$@" >>"$LOG" 2>&1 &
    follow $! "$msg" "$LOG" "$count"
}
