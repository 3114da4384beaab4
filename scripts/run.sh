#!/usr/bin/env bash
# make run: the whole stack on 127.0.0.1:8080 with state under .run/, until
# Ctrl-C.  Everything it started is stopped on exit, and nothing else.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/stack.sh"

port=${GATEWAY_PORT:-8080}
if perl -MIO::Socket::INET -e "IO::Socket::INET->new('127.0.0.1:$port') or exit 1" 2>/dev/null; then
    echo "run: 127.0.0.1:$port is already in use; stop that or set GATEWAY_PORT" >&2
    exit 1
fi

stack_init "$top/.run" "$port"
trap 'stack_down' EXIT
trap 'echo; stack_log "stopping"; exit 0' INT TERM
stack_up

gw=http://127.0.0.1:$GATEWAY_PORT
cat <<TRY

The identity gateway is up on $gw  (state, logs and mail under .run/)

Try it:
  curl -si $gw/api/health/ready
  curl -si $gw/api/v1/auth/register -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"correct horse battery","name":"Ann"}'
  scripts/last-otp.sh ann@example.com          # the code from the email in .run/mail/
  curl -si $gw/api/v1/auth/verify-email -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","otp":"<code>"}'
  curl -s  $gw/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"correct horse battery"}'
  curl -si $gw/api/v1/users/me -H "Authorization: Bearer <access_token>"
  scripts/identity-admin.sh grant-admin ann@example.com   # an admin from her next login
  curl -si $gw/api/v1/products -H "Authorization: Bearer <admin's access_token>" \\
       -H 'Content-Type: application/json' -d '{"name":"Mug","price":"19.99","stock":10}'
  curl -si $gw/api/v1/products                 # anyone; X-Cache-Status: MISS, then HIT
  curl -si $gw/api/v1/orders -H "Authorization: Bearer <access_token>" \\
       -H 'Content-Type: application/json' -d '{"items":[{"product_id":"<id>","quantity":3}]}'
  curl -si $gw/api/v1/orders -H "Authorization: Bearer <access_token>"  # hers, newest first
  /usr/bin/python3 -m websockets "ws://127.0.0.1:$GATEWAY_PORT/ws?token=<access_token>"
       # then {"recipients":["<user id>"],"message":"hi"}, or no recipients: everyone
  curl -si -X POST $gw/api/v1/auth/logout -H "Authorization: Bearer <access_token>"
  curl -s  $gw/.well-known/jwks.json

Logs: .run/logs/ (restarts in .run/logs/stack.log)   Ctrl-C stops everything.
TRY

# Stay up until Ctrl-C; a part that dies on its own is reported with the
# last lines of its log and restarted, the rest keeps running
# (stack_supervise in scripts/stack.sh).
stack_supervise
