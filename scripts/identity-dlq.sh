#!/usr/bin/env bash
# The notification dead-letter topic: what is on it, and sending it again.
#
#   scripts/identity-dlq.sh list   [--since TIME] [--job ID]
#   scripts/identity-dlq.sh replay [--since TIME] [--job ID]
#
# list prints one line per parked job, oldest first, tab-separated: where it
# is on the DLQ (PARTITION:OFFSET), when it failed (failed_at), its job id,
# template, attempts and the reason.
# replay produces each parked job's payload, with its key, back onto the
# jobs topic, where notify sends it like any job (deduplicated by job id:
# a job already delivered is not sent twice).  The DLQ keeps jobs with
# their secrets redacted: a code sealed to notify's key replays as it was,
# a secret that came in clear does not (such a job fails again).
#
# TIME: anything `date -d` reads ("2026-12-06T05:00:00Z", "1 hour ago",
# "@1796536800"): records parked at or after it (their time stamp).
# --job ID: only that job's records.
#
# Against the `make run` stack by default (RUN_DIR/kafka.bootstrap), or
# KAFKA_BROKERS; NOTIFY_TOPIC and NOTIFY_DLQ_TOPIC as notify reads them.
# Needs kcat (Debian's kcat, scripts/deps.sh).
#
# Exit status: 0 done, 1 a record could not be replayed (the others were),
# 2 usage (bad arguments, no broker to talk to, no kcat).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    echo "usage: scripts/identity-dlq.sh list|replay [--since TIME] [--job ID]" >&2
}

[ $# -ge 1 ] || { usage; exit 2; }
cmd=$1
shift
case $cmd in
    list|replay) ;;
    *) echo "identity-dlq.sh: unknown command: $cmd" >&2; usage; exit 2 ;;
esac
since= job=
while [ $# -gt 0 ]; do
    case $1 in
        --since) [ $# -ge 2 ] || { usage; exit 2; }; since=$2; shift 2 ;;
        --job) [ $# -ge 2 ] || { usage; exit 2; }; job=$2; shift 2 ;;
        *) echo "identity-dlq.sh: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
done

command -v kcat >/dev/null || {
    echo "identity-dlq.sh: kcat is missing (apt-get install kcat)" >&2
    exit 2
}
brokers=${KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then
    run=${RUN_DIR:-$top/.run}
    if [ ! -s "$run/kafka.bootstrap" ]; then
        echo "identity-dlq.sh: KAFKA_BROKERS is not set and no make run" \
             "stack is up in $run" >&2
        exit 2
    fi
    brokers=$(cat "$run/kafka.bootstrap")
fi
topic=${NOTIFY_TOPIC:-identity.notifications}
dlq=${NOTIFY_DLQ_TOPIC:-identity.notifications.dlq}

# --since compares with each record's time stamp (when notify parked it);
# filtered here, not by the broker's offsets-for-times lookup, which not
# every broker (the dev broker) answers
since_ms=0
if [ -n "$since" ]; then
    since_ms=$(date -d "$since" +%s%3N 2>/dev/null) || {
        echo "identity-dlq.sh: --since: not a time: $since" >&2
        exit 2
    }
fi

# The records as "partition<TAB>offset<TAB>time stamp<TAB>key<TAB>value"
# lines: the DLQ's values are compact JSON, with no raw tab or newline.
records() {
    kcat -C -b "$brokers" -t "$dlq" -o beginning -e -q \
        -f '%p\t%o\t%T\t%k\t%s\n' 2>/dev/null
}

records | DLQ_CMD=$cmd DLQ_JOB=$job DLQ_TOPIC=$topic DLQ_BROKERS=$brokers \
    DLQ_SINCE_MS=$since_ms \
    /usr/bin/python3 -c '
import json, os, subprocess, sys

cmd, job = os.environ["DLQ_CMD"], os.environ["DLQ_JOB"]
since = int(os.environ["DLQ_SINCE_MS"])
failed = 0
recs = []
for line in sys.stdin:
    line = line.rstrip("\n")
    try:
        part, off, ts, key, value = line.split("\t", 4)
        if int(ts) < since:
            continue
        rec = json.loads(value)
    except ValueError:
        print("identity-dlq.sh: skipped a record that is not a DLQ entry",
              file=sys.stderr)
        continue
    if isinstance(rec, dict):
        recs.append((int(ts), int(part), int(off), key, rec))
# partitions come in any order: oldest first, as they were parked
recs.sort(key=lambda r: r[:3])
for ts, part, o, key, rec in recs:
    off = "%d:%d" % (part, o)
    if job and rec.get("job_id") != job:
        continue
    if cmd == "list":
        print("\t".join(str(x) for x in (
            off, rec.get("failed_at", ""), rec.get("job_id") or "-",
            rec.get("template") or "-", rec.get("attempts", ""),
            (rec.get("error") or "").replace("\t", " "))))
        continue
    payload = rec.get("payload")
    if not isinstance(payload, dict) or "id" not in payload:
        print("identity-dlq.sh: offset %s: no job in it (%s), not replayed"
              % (off, (payload or {}).get("redacted", "no payload")
                 if isinstance(payload, dict) else "no payload"),
              file=sys.stderr)
        failed = 1
        continue
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    args = ["kcat", "-P", "-b", os.environ["DLQ_BROKERS"],
            "-t", os.environ["DLQ_TOPIC"], "-q"]
    if key:
        args += ["-K", "\t"]
        body = key + "\t" + body
    r = subprocess.run(args, input=(body + "\n").encode())
    if r.returncode != 0:
        print("identity-dlq.sh: offset %s: kcat could not produce it" % off,
              file=sys.stderr)
        failed = 1
        continue
    print("replayed\t%s\t%s" % (off, payload["id"]))
sys.exit(failed)
'
