#!/usr/bin/env bash
# `make run`: set up, then serve the app with its Redis, RQ worker and cron scheduler.
#
# The terminal shows one line per start-up step, the banner with the logins, and afterwards only
# warnings and errors; the processes log to instance/logs/ (web.log, access.log with the requests,
# worker.log, cron.log, redis.log, setup.log, fonts.log): `make logs` follows them.
# Environment: PORT (default 5000), HOST (default 127.0.0.1), REDIS_URL (unset: a private
# redis-server on a free port, data under instance/redis/), DATABASE_URL (unset: instance/crm.sqlite),
# RQ_QUEUE (default crm), RQ_MAINTENANCE_INTERVAL (default 60 s: how soon a restarted worker takes
# over the scheduling a killed one held), INSTANCE_DIR (default instance/: logs, the private Redis,
# the SQLite database). Ctrl-C (or SIGTERM) stops every process started here.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

bash scripts/setup.sh --run
source scripts/_lib.sh
INSTANCE=${INSTANCE_DIR:-$ROOT/instance}
LOG_DIR=$INSTANCE/logs
mkdir -p "$LOG_DIR"
LOG=$LOG_DIR/setup.log

export PORT=${PORT:-5000} HOST=${HOST:-127.0.0.1} RQ_QUEUE=${RQ_QUEUE:-crm}
RQ_MAINTENANCE_INTERVAL=${RQ_MAINTENANCE_INTERVAL:-60}
PY=.venv/bin/python
URL="http://$HOST:$PORT"

pids=()          # web and jobs; each leads its own process group (set -m): a kill reaches its forks
names=()         # their names, for a message when one exits
redis_pid=
fonts_pid=       # the PDF font subset, built beside the demo data
watch_pid=       # copies warnings and errors from the logs to the terminal
stopping=0
alive() { local pid; for pid in "$@"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done; return 1; }
stop_groups() {  # TERM the process groups, give them 10 s, then KILL what is left
    local pid
    for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do alive "$@" || break; sleep 0.1; done
    for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
stop() {
    ((stopping)) && return
    stopping=1
    trap '' INT TERM
    kill_step
    [ -n "$fonts_pid" ] && { kill "$fonts_pid" 2>/dev/null || true; }
    [ -n "$watch_pid" ] && { kill -- "-$watch_pid" 2>/dev/null || true; }
    [ -n "$redis_pid" ] || ((${#pids[@]})) || return 0
    echo
    echo "==> stopping"
    ((${#pids[@]})) && stop_groups "${pids[@]}"
    [ -n "$redis_pid" ] && stop_groups "$redis_pid"  # last: workers deregister from it on the way out
    return 0
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop' EXIT

started=
start() {  # start NAME LOG CMD...: run CMD in the background in a process group of its own
    local name=$1 log=$2
    shift 2
    set -m
    "$@" >>"$log" 2>&1 &
    set +m
    started=$!
    echo "$(date '+%F %T') started $name (pid $started)" >>"$log"
}

port_free() { $PY -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$1', int(sys.argv[1])))" "$2" 2>/dev/null; }

if ! port_free "$HOST" "$PORT"; then
    echo "port $PORT on $HOST is in use; stop what runs there or choose another: PORT=5001 make run" >&2
    exit 1
fi

# --- Redis -----------------------------------------------------------------------------------
if [ -z "${REDIS_URL:-}" ]; then
    redis_dir=$INSTANCE/redis
    mkdir -p "$redis_dir"
    # a private redis-server left behind by a run that was killed with SIGKILL
    if [ -f "$redis_dir/redis.pid" ]; then
        old=$(cat "$redis_dir/redis.pid")
        # only if it still runs in our directory (redis-server chdirs to --dir): never another Redis
        if [ "$(readlink "/proc/$old/cwd" 2>/dev/null)" = "$redis_dir" ]; then
            kill "$old" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$redis_dir/redis.pid"
    fi
    redis_port=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    start redis-server "$LOG_DIR/redis.log" redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" \
        --pidfile "$redis_dir/redis.pid" --save "" --appendonly no --loglevel warning
    redis_pid=$started
    export REDIS_URL="redis://127.0.0.1:$redis_port/0"
    for _ in $(seq 100); do
        $PY -c "import socket; socket.create_connection(('127.0.0.1', $redis_port), 0.2).close()" 2>/dev/null && break
        sleep 0.1
    done
fi

# --- PDF fonts and demo data, side by side (after Redis: loading the demo schedules alarms) -------
fonts_started=$SECONDS
if ! $PY scripts/build_fonts.py --check >/dev/null; then
    $PY scripts/build_fonts.py >"$LOG_DIR/fonts.log" 2>&1 &
    fonts_pid=$!
fi
quietly "loading the demo data (if the database is empty)" .venv/bin/flask --app wsgi demo-data
if [ -n "$fonts_pid" ]; then
    follow "$fonts_pid" "building the PDF font subset (beside the demo data)" "$LOG_DIR/fonts.log" \
        "" "$fonts_started"
    fonts_pid=
fi

# --- web, worker, cron -----------------------------------------------------------------------
# A warning or an error in any log is copied to the terminal (a request line of access.log is not).
set -m
(tail -n 0 -q -F "$LOG_DIR/web.log" "$LOG_DIR/worker.log" "$LOG_DIR/cron.log" "$LOG_DIR/redis.log" 2>/dev/null \
    | grep --line-buffered -E '\[(WARNING|ERROR|CRITICAL)\]| (WARNING|ERROR|CRITICAL) |Traceback') &
set +m
watch_pid=$!
t0=$SECONDS
echo "$(bold "==> starting") gunicorn, rq worker, rq cron"
# gunicorn's own messages (and the app's errors) go to web.log, one line per request to access.log.
start gunicorn "$LOG_DIR/web.log" .venv/bin/gunicorn -c gunicorn.conf.py \
    --access-logfile "$LOG_DIR/access.log" wsgi:app
pids+=("$started") names+=(gunicorn)
start_job() {  # start_job NAME: the worker or the cron scheduler (also used to restart them)
    case $1 in
        "rq worker") start "rq worker" "$LOG_DIR/worker.log" .venv/bin/rq worker --with-scheduler \
                        --maintenance-interval "$RQ_MAINTENANCE_INTERVAL" -c jobs.worker_settings --url "$REDIS_URL" --path "$ROOT" "$RQ_QUEUE" ;;
        "rq cron") start "rq cron" "$LOG_DIR/cron.log" .venv/bin/rq cron --url "$REDIS_URL" \
                        --path "$ROOT" jobs/cron_config.py ;;
    esac
}
start_job "rq worker"
pids+=("$started") names+=("rq worker")
start_job "rq cron"
pids+=("$started") names+=("rq cron")

# ready when /healthz answers 200: database, Redis and a worker on the queue are up
ready=0
for _ in $(seq 120); do
    if $PY -c "import urllib.request; urllib.request.urlopen('$URL/healthz', timeout=2)" 2>/dev/null; then
        ready=1
        break
    fi
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null && continue
        echo "${names[$i]} exited during start-up; see $LOG_DIR/" >&2
        exit 1
    done
    if [ -n "$redis_pid" ] && ! kill -0 "$redis_pid" 2>/dev/null; then
        echo "redis-server exited during start-up; see $LOG_DIR/redis.log" >&2
        exit 1
    fi
    sleep 0.5
done
((ready)) || { echo "$URL/healthz did not answer 200 within 60 s" >&2; exit 1; }
redis_note="REDIS_URL from the environment"
[ -n "$redis_pid" ] && redis_note="private redis-server at $REDIS_URL"

cat <<EOF

  CRM is running at $URL   (Ctrl-C stops it; ready in $((SECONDS - t0)) s, $SECONDS s in all)
  Redis: $redis_note   queue: $RQ_QUEUE
  Logs: $LOG_DIR/*.log (\`make logs\` follows them); warnings and errors also show here

  Demo logins (password: demo; loaded only into an empty database)
    associate     导购, 上海南京路店 (华东片区)
    associate1b   second associate, same store
    associate2    导购, 广州天河店 (华南片区)
    manager       店长, 上海南京路店
    manager3      店长, 广州天河店
    supervisor    区域主管, 华东片区
    area_manager  区域经理, 华东片区
    hq            总部客服专员
    hq_manager    总部客服经理
    admin         系统管理员

EOF

# Run until a signal arrives (trap). A worker or cron scheduler that dies is started again after
# 1, 2, 4 … 60 s (back to 1 s once it ran a minute); its scheduler lock in Redis expires by itself
# (61 s), the new worker takes it at its next maintenance pass (RQ_MAINTENANCE_INTERVAL), and the
# every-minute sweeper fires what fell due meanwhile. gunicorn or Redis exiting
# stops everything, as before.
set +e
declare -A backoff=() began=()
while true; do
    exited=
    wait -n -p exited "${pids[@]}" $redis_pid
    rc=$?
    ((stopping)) && exit 0
    idx=
    for i in "${!pids[@]}"; do [ "${pids[$i]}" = "$exited" ] && idx=$i; done
    name=${idx:+${names[$idx]}}
    if [ "$name" != "rq worker" ] && [ "$name" != "rq cron" ]; then
        echo "${name:-redis-server} exited (status $rc); stopping the others" >&2
        exit 1
    fi
    kill -KILL -- "-$exited" 2>/dev/null || true  # a work horse left behind
    delay=${backoff[$name]:-1}
    (( SECONDS - ${began[$name]:-0} > 60 )) && delay=1
    echo "$(date '+%F %T') WARNING $name exited (status $rc); restarting it in $delay s" >&2
    sleep "$delay"
    ((stopping)) && exit 0
    start_job "$name"
    pids[$idx]=$started
    began[$name]=$SECONDS
    backoff[$name]=$(( delay * 2 > 60 ? 60 : delay * 2 ))
done
