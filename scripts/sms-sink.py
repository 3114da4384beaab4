#!/usr/bin/env python3
"""Dev SMS sink: the SMS webhook of the local stack (SMS_WEBHOOK_URL).

Stores the JSON body of every POST ({"to","text"} from identity-notify) as a
file under DIR/new/, as the SMTP sink does with mail, so that tests and
people can read the codes sent by SMS.  Only for make run / make test.

    sms-sink.py HOST:PORT DIR
"""
import http.server
import os
import sys
import time


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > 65536:
            self.send_error(413)
            return
        body = self.rfile.read(n)
        name = "%d.%d.json" % (time.time_ns(), os.getpid())
        tmp = os.path.join(self.server.dir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(body)
        os.rename(tmp, os.path.join(self.server.dir, "new", name))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, fmt, *args):
        sys.stderr.write("sms-sink: " + (fmt % args) + "\n")


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    server = http.server.HTTPServer((host, int(port)), Sink)
    server.dir = sys.argv[2]
    for d in ("new", "tmp"):
        os.makedirs(os.path.join(server.dir, d), exist_ok=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
