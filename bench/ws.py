#!/usr/bin/python3
"""The WebSocket clients of bench/stack.sh's realtime rows, against /ws of
the gateway it started (Debian's python3-websockets; run with
/usr/bin/python3).  TOKENS is a file of access tokens, one a line, each of
a user of its own; a socket i uses token i mod their number.  Results go to
OUT as key=value lines.

  ws.py idle URL TOKENS N PIDS OUT
      opens N sockets (at most 200 handshakes at once), none sending, and
      holds them 3 s; PIDS (comma-separated) are the processes whose
      resident memory (VmRSS) is read before the first and once all are
      open: opened=, failed=, open_seconds=, rss_before_kb=,
      rss_after_kb=.  Then closes them.
  ws.py fanout URL TOKENS N MESSAGES RATE OUT
      N receiving sockets, and one more that sends MESSAGES messages to
      everyone (no recipients) at RATE a second; each received copy is
      timed from its message's sending to its arrival (the clock of this
      machine): lines "ms" in OUT.lat, and delivered=, expected=,
      receivers= in OUT (every receiver must get each message once).
  ws.py direct URL TOKENS MESSAGES RATE OUT
      the same with one receiver, to its user only (recipients): the
      baseline of fanout.
  ws.py throughput URL TOKENS SECONDS WINDOW OUT
      a socket for each token sends messages to its own user (recipients)
      for SECONDS, with at most WINDOW of its own not yet back: messages=,
      seconds=, and round trips in OUT.lat.

Every wait is bounded; a socket closed by the server is reported
(closed=CODE:COUNT,...) and makes the run invalid in the report.
"""
import asyncio
import base64
import json
import sys
import time

import websockets

OPEN_TIMEOUT = 30


def user_of(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["sub"]


def read_tokens(path):
    with open(path) as f:
        tokens = [line.strip() for line in f if line.strip()]
    if not tokens:
        sys.exit(f"{path}: no tokens")
    return tokens


def write(out, **kv):
    with open(out, "w") as f:
        for k, v in kv.items():
            f.write(f"{k}={v}\n")


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


class Closed:
    """The close codes the server sent, counted."""

    def __init__(self):
        self.codes = {}

    def add(self, code):
        self.codes[code] = self.codes.get(code, 0) + 1

    def text(self):
        return ",".join(f"{c}:{n}" for c, n in sorted(self.codes.items()))


async def connect(url, token, gate):
    async with gate:
        return await websockets.connect(
            f"{url}?token={token}", ping_interval=None,
            open_timeout=OPEN_TIMEOUT, close_timeout=2, max_queue=None)


async def idle(url, tokens, n, pids, out):
    gate = asyncio.Semaphore(200)
    before = rss_kb(pids)
    t0 = time.monotonic()
    got = await asyncio.gather(
        *(connect(url, tokens[i % len(tokens)], gate) for i in range(n)),
        return_exceptions=True)
    seconds = time.monotonic() - t0
    socks = [s for s in got if not isinstance(s, BaseException)]
    await asyncio.sleep(3)
    after = rss_kb(pids)
    still = sum(1 for s in socks if s.open)
    write(out, opened=len(socks), failed=n - len(socks), still_open=still,
          open_seconds=f"{seconds:.2f}", rss_before_kb=before,
          rss_after_kb=after)
    await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)


async def receive(sock, want, lat, closed, done):
    """Times the messages of this run (their text: "<run> <seq> <sent>")
    until `want` have come; returns how many did."""
    n = 0
    try:
        while n < want:
            frame = json.loads(await sock.recv())
            if frame.get("type") != "message":
                continue        # a greeting
            run, _, sent = frame["message"].split(" ")
            if run != done["run"]:
                continue
            lat.append(1000 * (time.time() - float(sent)))
            n += 1
    except websockets.ConnectionClosed as e:
        closed.add(e.code)
    return n


async def spread(url, tokens, n, messages, rate, out, to_one):
    gate = asyncio.Semaphore(200)
    closed = Closed()
    # the receivers use the tokens from the second on; the sender the first
    rtokens = tokens[1:] if len(tokens) > 1 else tokens
    receivers = await asyncio.gather(
        *(connect(url, rtokens[i % len(rtokens)], gate) for i in range(n)))
    sender = await connect(url, tokens[0], gate)
    await asyncio.sleep(1)      # the greetings are past
    run = f"r{time.time():.6f}"
    done = {"run": run}
    lat = []
    tasks = [asyncio.create_task(receive(s, messages, lat, closed, done))
             for s in receivers]
    body = {"recipients": [user_of(rtokens[0])]} if to_one else {}
    t0 = time.monotonic()
    for seq in range(messages):
        due = t0 + seq / rate
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        body["message"] = f"{run} {seq} {time.time():.6f}"
        await sender.send(json.dumps(body))
    finished = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), 30)
    delivered = sum(x for x in finished if isinstance(x, int))
    with open(out + ".lat", "w") as f:
        f.writelines(f"{ms:.3f}\n" for ms in lat)
    write(out, receivers=n, messages=messages, delivered=delivered,
          expected=n * messages, closed=closed.text())
    await asyncio.gather(*(s.close() for s in receivers + [sender]),
                         return_exceptions=True)


async def echo(sock, me, seconds, window, lat, closed):
    """Sends messages to its own user, at most `window` in flight, for
    `seconds`; returns how many came back."""
    run = f"t{id(sock)}"
    sent = back = 0
    credit = asyncio.Semaphore(window)
    stop = time.monotonic() + seconds

    async def reader():
        nonlocal back
        while True:
            frame = json.loads(await sock.recv())
            if frame.get("type") != "message":
                continue
            r, _, t = frame["message"].split(" ")
            if r != run:
                continue
            lat.append(1000 * (time.time() - float(t)))
            back += 1
            credit.release()

    task = asyncio.create_task(reader())
    try:
        while time.monotonic() < stop:
            await credit.acquire()
            await sock.send(json.dumps({"recipients": [me],
                                        "message": f"{run} {sent} {time.time():.6f}"}))
            sent += 1
        # what is in flight comes back
        for _ in range(window):
            await asyncio.wait_for(credit.acquire(), 10)
    except websockets.ConnectionClosed as e:
        closed.add(e.code)
    except asyncio.TimeoutError:
        pass
    task.cancel()
    return back


async def throughput(url, tokens, seconds, window, out):
    gate = asyncio.Semaphore(200)
    closed = Closed()
    socks = await asyncio.gather(*(connect(url, t, gate) for t in tokens))
    await asyncio.sleep(1)
    lat = []
    t0 = time.monotonic()
    backs = await asyncio.gather(
        *(echo(s, user_of(t), seconds, window, lat, closed)
          for s, t in zip(socks, tokens)))
    took = time.monotonic() - t0
    with open(out + ".lat", "w") as f:
        f.writelines(f"{ms:.3f}\n" for ms in lat)
    write(out, sockets=len(socks), window=window, messages=sum(backs),
          seconds=f"{took:.3f}", closed=closed.text())
    await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)


def main():
    cmd, args = sys.argv[1] if len(sys.argv) > 1 else "", sys.argv[2:]
    if cmd == "idle" and len(args) == 5:
        url, tokens, n, pids, out = args
        asyncio.run(idle(url, read_tokens(tokens), int(n),
                         [int(p) for p in pids.split(",")], out))
    elif cmd in ("fanout", "direct") and len(args) == (6 if cmd == "fanout" else 5):
        if cmd == "fanout":
            url, tokens, n, messages, rate, out = args
        else:
            (url, tokens, messages, rate, out), n = args, 1
        asyncio.run(spread(url, read_tokens(tokens), int(n), int(messages),
                           float(rate), out, cmd == "direct"))
    elif cmd == "throughput" and len(args) == 5:
        url, tokens, seconds, window, out = args
        asyncio.run(throughput(url, read_tokens(tokens), float(seconds),
                               int(window), out))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
