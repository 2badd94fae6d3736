#!/usr/bin/env bash
# `make run`: start the whole system on embedded defaults (SQLite, a private redis-server,
# the demo election and roster, the simulator channel) and print where everything is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mkdir -p var
if [ -f .env ]; then set -a; . ./.env; set +a; fi
export PATH="$ROOT/.venv/bin:$PATH"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$ROOT/var/relay.db}"
export PORT="${PORT:-5000}"
export PUBLIC_URL="${PUBLIC_URL:-http://127.0.0.1:$PORT}"
# A development system: the built-in SECRET_KEY is accepted only here (set both for real use).
export RELAY_ENV="${RELAY_ENV:-development}"

STARTED_REDIS=0
HONCHO_PID=""
cleanup() {
  if [ -n "$HONCHO_PID" ]; then kill -TERM "$HONCHO_PID" 2>/dev/null || true; wait "$HONCHO_PID" || true; fi
  if [ "$STARTED_REDIS" = 1 ]; then kill "$(cat "$ROOT/var/redis.pid" 2>/dev/null)" 2>/dev/null || true; fi
  rm -f "$ROOT/var/runtime.env"
}
trap cleanup EXIT
# Ctrl-C is how `make run` is meant to stop: a clean exit after the cleanup, so make stays quiet
# (an exit status of 130 made it print "Error 130"; make dies of its own SIGINT silently).
trap 'exit 0' INT TERM

# The processes log to stdout (honcho shows it; in production the process manager keeps and
# rotates it). The one file written here is the private Redis's log: rotated at each start
# past LOG_MAX_BYTES (the previous one kept as .1), and Redis logs warnings only.
rotate_log() {
  if [ -f "$1" ] && [ "$(stat -c %s "$1")" -gt "${LOG_MAX_BYTES:-10485760}" ]; then
    mv -f "$1" "$1.1"
  fi
}

if [ -z "${REDIS_URL:-}" ]; then
  rotate_log "$ROOT/var/redis.log"
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning \
    --daemonize yes --pidfile "$ROOT/var/redis.pid" --logfile "$ROOT/var/redis.log" --dir "$ROOT/var"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  STARTED_REDIS=1
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
# bin/relay reads this, so CLI commands in another terminal reach the same system.
printf 'DATABASE_URL=%q\nREDIS_URL=%q\nPUBLIC_URL=%q\nRELAY_ENV=%q\n' \
  "$DATABASE_URL" "$REDIS_URL" "$PUBLIC_URL" "$RELAY_ENV" > var/runtime.env

flask --app webhooks db upgrade
flask --app webhooks demo load
if operator_line=$(flask --app webhooks operators add demo --role admin 2>/dev/null); then
  operator_note="user demo, ${operator_line##*: } (one-time: you choose your own at first login)"
else
  operator_note="user demo (exists; a new password: bin/relay operators reset demo)"
fi

cat <<BANNER

  TPS Relay is starting.
    results     http://127.0.0.1:$PORT/   (health: http://127.0.0.1:$PORT/healthz)
    simulator   http://127.0.0.1:$PORT/simulator   (log in as the console operator)
    console     http://127.0.0.1:$PORT/console     $operator_note
    webhooks    $PUBLIC_URL/webhooks/twilio   $PUBLIC_URL/webhooks/sms-gateway
    database    $DATABASE_URL
    redis       $REDIS_URL

  Send a tally as the demo officer of TPS 3576011001001, in another terminal (a quick count):

    bin/relay simulate sms --from 081234567801 "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"

  then confirm it:   bin/relay simulate sms --from 081234567801 YA
  the whole C.Hasil (voters on the DPT, DPTb and DPK lists; ballots; disabled voters; votes):

    bin/relay simulate sms --from 081234567801 "PPWP 3576011001001 DPT=287 DPTB=3 DPK=2 PDPT=255 PDPTB=3 PDPK=2 PHP=260 SSD=293 SSR=2 SSTD=31 SS=260 DIS=4 PDIS=3 01=120 02=95 03=40 SAH=255 TS=5"

  DPR, dapil Jawa Timur VIII: NN= a party's own votes, NN.K= its candidate K (SAH: party totals):

    bin/relay simulate sms --from 081234567801 "DPR 3576011001001 01=10 01.1=25 01.2=8 02=15 02.1=30 03=12 03.1=20 03.4=6 04=20 05=15 08=10 SAH=171 TS=4"

  a photo of a form: bin/relay simulate photo --from 081234567801 tests/data/ocr/ppwp_clean.jpg
  print blank forms: bin/relay forms render --tps 3576011001001 --contest PPWP --out var/forms
  Stop with Ctrl-C.

BANNER
processes="web worker sender sweeper"
# Telegram without a webhook secret means no public HTTPS address: long-poll instead.
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ] && [ -z "${TELEGRAM_WEBHOOK_SECRET:-}" ]; then
  processes="$processes telegram-poll"
fi
# shellcheck disable=SC2086
honcho start -f Procfile -p "$PORT" $processes &
HONCHO_PID=$!
wait "$HONCHO_PID"
