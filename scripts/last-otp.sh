#!/usr/bin/env bash
# Prints the newest one-time code mailed to ADDRESS by the dev SMTP sink.
#
#   scripts/last-otp.sh ADDRESS [MAIL_DIR]      (MAIL_DIR defaults to .run/mail)
set -euo pipefail
addr=${1:?usage: last-otp.sh ADDRESS [MAIL_DIR]}
dir=${2:-$(cd "$(dirname "$0")/.." && pwd)/.run/mail}
# "To: ADDRESS" or "To: Name <ADDRESS>" (the address as a literal string)
re=$(printf '%s' "$addr" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
file=$( (grep -liE "^To:(.* <| )$re>?"$'\r'"?\$" "$dir"/new/* "$dir"/cur/* \
         2>/dev/null || true) | xargs -r ls -t | head -n 1)
[ -n "$file" ] || { echo "no mail for $addr in $dir" >&2; exit 1; }
code=$(grep -Eo '^[[:space:]]*[0-9]{6}[[:space:]]*$' "$file" | tr -d '[:space:]' | tail -n 1)
[ -n "$code" ] || { echo "no code in $file" >&2; exit 1; }
echo "$code"
