#!/usr/bin/python3
"""A WebSocket client for the t/e2e/realtime*.t suites (Debian's
python3-websockets 10.4; run it with /usr/bin/python3).

  ws-client.py [--unix PATH] [--header 'Name: value']... [--subprotocol P]...
               [--paused] [--raw] URL

Prints one JSON line per event on stdout, each with "t" (seconds since the
start):
  {"event":"open","subprotocol":...}          the upgrade succeeded
  {"event":"refused","status":401}            the server answered without one
  {"event":"frame","data":"<text>"}           a message from the server
  {"event":"closed","code":4001,"reason":..}  the connection ended (code
                                              1006: without a close frame)
  {"event":"error","error":"..."}             anything else
Reads commands on stdin, one a line:
  send <text>      sends <text> as one text message
  read             starts reading (with --paused, nothing is read before:
                   a slow reader, whose buffers fill up)
  close [code]     closes (1000 by default)
--raw: does the upgrade by hand, then reads and discards without ever
answering a ping, until the server hangs up ("closed" with code null): a
client that has gone away without a word.
"""
import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import time
from urllib.parse import urlsplit

import websockets

T0 = time.monotonic()


def emit(**kw):
    kw["t"] = round(time.monotonic() - T0, 3)
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def headers_of(args):
    out = []
    for h in args.header:
        name, _, value = h.partition(":")
        out.append((name.strip(), value.strip()))
    return out


def raw(args):
    u = urlsplit(args.url)
    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(args.unix)
    else:
        s = socket.create_connection((u.hostname, u.port or 80))
    path = u.path + ("?" + u.query if u.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    req = [f"GET {path} HTTP/1.1", f"Host: {u.netloc}", "Upgrade: websocket",
           "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
           "Sec-WebSocket-Version: 13"]
    req += [f"{n}: {v}" for n, v in headers_of(args)]
    s.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            break
        head += b
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if status != 101:
        emit(event="refused", status=status)
        return
    emit(event="open", subprotocol=None)
    while s.recv(65536):
        pass
    emit(event="closed", code=None, reason="")


async def main(args):
    kw = dict(extra_headers=headers_of(args), open_timeout=10,
              ping_interval=None, max_size=2 ** 22,
              max_queue=1 if args.paused else 1024,
              read_limit=2 ** 12 if args.paused else 2 ** 16)
    if args.subprotocol:
        kw["subprotocols"] = args.subprotocol
    try:
        if args.unix:
            ws = await websockets.unix_connect(args.unix, args.url, **kw)
        else:
            ws = await websockets.connect(args.url, **kw)
    except websockets.exceptions.InvalidStatusCode as e:
        emit(event="refused", status=e.status_code)
        return
    except Exception as e:  # noqa: BLE001 - reported to the test
        emit(event="error", error=repr(e))
        return
    emit(event="open", subprotocol=ws.subprotocol)
    done = asyncio.Event()

    async def reader():
        try:
            async for msg in ws:
                emit(event="frame", data=msg)
        except websockets.exceptions.ConnectionClosed:
            pass
        emit(event="closed", code=ws.close_code, reason=ws.close_reason)
        done.set()

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    task = None if args.paused else asyncio.create_task(reader())

    async def commands():
        nonlocal task
        while True:
            line = await stdin.readline()
            if not line:
                break
            cmd, _, rest = line.decode().rstrip("\n").partition(" ")
            try:
                if cmd == "send":
                    await ws.send(rest)
                elif cmd == "read" and task is None:
                    task = asyncio.create_task(reader())
                elif cmd == "close":
                    await ws.close(int(rest) if rest else 1000)
            except websockets.exceptions.ConnectionClosed:
                pass
        if task is None:
            task = asyncio.create_task(reader())
        await ws.close()

    cmd_task = asyncio.create_task(commands())
    await done.wait()
    cmd_task.cancel()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--subprotocol", action="append", default=[])
    p.add_argument("--paused", action="store_true")
    p.add_argument("--raw", action="store_true")
    p.add_argument("url")
    a = p.parse_args()
    if a.raw:
        raw(a)
    else:
        asyncio.run(main(a))
