#!/usr/bin/python3
"""A stand-in for an HTTP provider (an email or SMS API) in tests.

    provider-recorder.py DIR

Listens on 127.0.0.1 on a free port, written to DIR/port once it listens.
Every request is recorded as DIR/req-NNNNNN.json: {"seq", "method", "path",
"headers" (name -> value, names lower-case), "body", "status" (what it was
answered), "peer" (the client's port: one per connection), "time"}.

DIR/mode decides the answers, read at each request: "ok" (or no file)
answers 201 to a path ending in .json (Twilio) and 202 otherwise (SendGrid);
a number answers that status; "hang" answers nothing for 120 s; "close"
closes the connection without an answer.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
lock = threading.Lock()
seq = [0]


def mode():
    try:
        with open(os.path.join(DIR, 'mode')) as f:
            return f.read().strip() or 'ok'
    except FileNotFoundError:
        return 'ok'


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as a provider's API does

    def log_message(self, *args):
        pass

    def record(self, body, status):
        with lock:
            seq[0] += 1
            n = seq[0]
        rec = {'seq': n, 'method': self.command, 'path': self.path,
               'headers': {k.lower(): v for k, v in self.headers.items()},
               'body': body.decode('utf-8', 'replace'), 'status': status,
               'peer': self.client_address[1], 'time': time.time()}
        path = os.path.join(DIR, 'req-%06d.json' % n)
        with open(path + '.tmp', 'w') as f:
            json.dump(rec, f)
        os.rename(path + '.tmp', path)

    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n)
        m = mode()
        if m == 'hang':
            self.record(body, 0)
            time.sleep(120)
            self.close_connection = True
            return
        if m == 'close':
            self.record(body, 0)
            self.close_connection = True
            return
        if m == 'ok':
            status = 201 if self.path.endswith('.json') else 202
        else:
            status = int(m)
        self.record(body, status)
        out = b'{"sid":"SM0"}' if status == 201 else b''
        if status >= 400:
            out = b'{"errors":[{"message":"refused by the test"}]}'
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_PUT = do_POST


srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
srv.daemon_threads = True
with open(os.path.join(DIR, 'port.tmp'), 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, 'port.tmp'), os.path.join(DIR, 'port'))
srv.serve_forever()
