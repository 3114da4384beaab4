#!/usr/bin/python3
"""An SMTP sink (aiosmtpd, messages into a Maildir) that also counts the
connections it accepted, for tests of connection reuse.

    smtp-count-sink.py MAILDIR CONNLOG

Listens on 127.0.0.1 on a free port, written to CONNLOG.port once it
listens; appends one line to CONNLOG per accepted connection.
"""
import asyncio
import os
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

MAILDIR, CONNLOG = sys.argv[1], sys.argv[2]


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        with open(CONNLOG, 'a') as f:
            f.write('connection\n')
        super().connection_made(transport)


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
handler = Mailbox(MAILDIR)
server = loop.run_until_complete(loop.create_server(
    lambda: CountingSMTP(handler, loop=loop), '127.0.0.1', 0))
port = server.sockets[0].getsockname()[1]
with open(CONNLOG + '.port.tmp', 'w') as f:
    f.write(str(port))
os.rename(CONNLOG + '.port.tmp', CONNLOG + '.port')
loop.run_forever()
