#!/bin/bash
# End-to-end check of identity-auth + identity-users against running workers
# (PostgreSQL, Redis, Kafka and identity-notify behind them).  Reads the
# OTP from the mail in the SMTP sink's Maildir (the code is sealed on Kafka),
# plays the gateway by sending the X-Identity-* headers.
#
#   AUTH_SOCK=/path/auth.sock USERS_SOCK=/path/users.sock \
#   MAIL_DIR=/path/to/maildir workers/tests/e2e_auth.sh
#
# Prints TAP; exits non-zero on any failure.
set -u
: "${AUTH_SOCK:?}" "${USERS_SOCK:?}" "${MAIL_DIR:?}"
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
email="e2e-$RANDOM$RANDOM@example.com"

check() { # name expected-status actual-status [body-grep]
    n=$((n + 1))
    if [ "$2" = "$3" ] && { [ -z "${4:-}" ] || grep -q -- "$4" "$tmp/body"; }; then
        echo "ok $n - $1"
    else
        failed=$((failed + 1))
        echo "not ok $n - $1 (status $3, want $2)"
        head -c 400 "$tmp/body" | sed 's/^/#   /'
        echo
    fi
}
auth() { # method path [curl args...]
    local m=$1 p=$2
    shift 2
    curl -s -o "$tmp/body" -w '%{http_code}' --unix-socket "$AUTH_SOCK" \
        -X "$m" "$@" "http://auth$p"
}
users() {
    local p=$1
    shift
    curl -s -o "$tmp/body" -w '%{http_code}' --unix-socket "$USERS_SOCK" \
        "$@" "http://users$p"
}
json() { python3 -c "import sys,json; print(json.load(open('$tmp/body'))$1)"; }
latest_otp() {
    local i f
    for i in $(seq 50); do
        f=$(grep -lis "^To:.*$1" "$MAIL_DIR"/new/* "$MAIL_DIR"/cur/* | tail -1)
        [ -n "$f" ] && { grep -Em1 '^\s*[0-9]{6}\s*$' "$f" | tr -d ' \r'; return; }
        sleep 0.2
    done
}
J=(-H 'Content-Type: application/json')

s=$(auth GET /api/health/live); check "live" 200 "$s" '"ok"'
s=$(auth GET /api/health/ready); check "ready" 200 "$s" '"kafka":"ok"'
s=$(auth POST /api/v1/auth/register "${J[@]}" -d '{"email":'); check "bad JSON 400" 400 "$s" invalid_json
s=$(auth POST /api/v1/auth/register -d 'email=x'); check "form body 415" 415 "$s" unsupported_media_type
s=$(auth POST /api/v1/auth/register "${J[@]}" -d '{}'); check "missing fields 422" 422 "$s" '"field":"password"'
s=$(auth POST /api/v1/auth/register "${J[@]}" -d '{"email":"x@y","password":"short"}'); check "invalid fields 422" 422 "$s" 'valid email'
head -c 100000 /dev/zero | tr '\0' a > "$tmp/big"
s=$(auth POST /api/v1/auth/register "${J[@]}" --data-binary @"$tmp/big"); check "huge body 413" 413 "$s" payload_too_large
s=$(auth GET /api/v1/nope); check "unknown path 404" 404 "$s" not_found
s=$(auth GET /api/v1/auth/login); check "wrong method 405" 405 "$s" method_not_allowed

s=$(auth POST /api/v1/auth/register "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"correct horse\",\"firstName\":\"E2E\"}")
check "register 202" 202 "$s" pending_verification
otp=$(latest_otp "$email")
s=$(auth POST /api/v1/auth/verify-email "${J[@]}" -d "{\"email\":\"$email\",\"otp\":\"$( [ "$otp" = 000000 ] && echo 000001 || echo 000000)\"}")
check "wrong OTP 400 invalid_otp" 400 "$s" invalid_otp
s=$(auth POST /api/v1/auth/verify-email "${J[@]}" -d "{\"email\":\"$email\",\"otp\":\"$otp\"}")
check "verify 201" 201 "$s" '"token_type":"Bearer"'
s=$(auth POST /api/v1/auth/verify-email "${J[@]}" -d "{\"email\":\"$email\",\"otp\":\"$otp\"}")
check "OTP single use" 400 "$s" invalid_otp
s=$(auth POST /api/v1/auth/register "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"other password\"}")
check "register taken address: same 202" 202 "$s" pending_verification

s=$(auth POST /api/v1/auth/login "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"wrong pass\"}")
check "wrong password 401" 401 "$s" invalid_credentials
s=$(auth POST /api/v1/auth/login "${J[@]}" -d '{"email":"nobody-e2e@example.com","password":"wrong pass"}')
check "unknown user 401" 401 "$s" invalid_credentials
s=$(auth POST /api/v1/auth/login "${J[@]}" -d "{\"email\":\"$email\",\"password\":\"correct horse\"}")
check "login 200" 200 "$s" access_token
rt=$(json '["refresh_token"]'); uid=$(json '["user"]["id"]'); at=$(json '["access_token"]')
sid=$(echo "$at" | cut -d. -f2 | python3 -c 'import sys,base64,json; s=sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))["sid"])')

s=$(auth POST /api/v1/auth/refresh "${J[@]}" -d "{\"refreshToken\":\"$rt\"}"); check "refresh 200" 200 "$s" refresh_token
rt2=$(json '["refresh_token"]')
s=$(auth POST /api/v1/auth/refresh "${J[@]}" -d "{\"refresh_token\":\"$rt\"}"); check "reuse of a rotated token 401" 401 "$s" refresh_token_reused
s=$(auth POST /api/v1/auth/refresh "${J[@]}" -d "{\"refresh_token\":\"$rt2\"}"); check "family revoked after reuse" 401 "$s" invalid_refresh_token

ID=(-H "X-Identity-Sub: $uid" -H "X-Identity-Role: user" -H "X-Identity-Email: $email" -H "X-Identity-Sid: $sid" -H "X-Identity-Jti: j" -H "X-Identity-Exp: 4102444800")
s=$(auth GET /api/v1/auth/validate); check "validate without identity 401" 401 "$s" unauthorized
s=$(auth GET /api/v1/auth/validate "${ID[@]}"); check "validate 200" 200 "$s" "\"sub\":\"$uid\""
s=$(users /api/v1/users/me "${ID[@]}"); check "users/me 200" 200 "$s" "\"email\":\"$email\""
grep -q password "$tmp/body" && { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - profile leaks a password field"; }
s=$(users "/api/v1/users/$uid" "${ID[@]}"); check "users/{self} 200" 200 "$s" "$uid"
s=$(users /api/v1/users/00000000-0000-4000-8000-000000000000 "${ID[@]}"); check "users/{other} 403" 403 "$s" forbidden
s=$(users /api/v1/users/not-a-uuid -H "X-Identity-Sub: $uid" -H "X-Identity-Role: admin"); check "users/{non-uuid} admin 404" 404 "$s" user_not_found
s=$(users /api/v1/users/me); check "users/me without identity 401" 401 "$s" unauthorized
s=$(auth POST /api/v1/auth/logout "${ID[@]}"); check "logout 204" 204 "$s"
s=$(auth GET /.well-known/jwks.json); check "jwks 200" 200 "$s" '"use":"sig"'

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
