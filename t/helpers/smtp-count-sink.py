#!/usr/bin/python3
"""An SMTP sink (aiosmtpd, messages into a Maildir) that also logs the
connections it accepted and the logins, for tests of connection reuse.

    smtp-count-sink.py MAILDIR CONNLOG [CERT KEY USER PASSWORD]

Listens on 127.0.0.1 on a free port, written to CONNLOG.port once it
listens; appends "connection" to CONNLOG per accepted connection.  With
CERT, KEY, USER and PASSWORD it offers STARTTLS, requires it, and takes
mail only after AUTH as USER with PASSWORD, appending "auth USER ok" (or
"auth USER refused") per attempt.

Environment, for fault tests:
  SINK_PORT  listen on this port instead of a free one (a sink that comes
             back where it was)
  SINK_HOOK  a file: when a message has been written to the Maildir and
             before its 250 is answered, each line of the file (if it
             exists) is done and the file removed, once:
               SIGNAL PID            sends SIGNAL ("STOP": the process is
                                     frozen at that exact moment)
               REDIS-PAUSE SOCK MS   CLIENT PAUSE MS WRITE on the Redis of
                                     unix socket SOCK: its clients' writes
                                     wait (and a client that goes away
                                     meanwhile has none done)
               SLEEP MS              waits MS before going on (e.g. until
                                     a signalled process has acted on it)
"""
import asyncio
import os
import signal
import socket
import ssl
import sys
import time

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

MAILDIR, CONNLOG = sys.argv[1], sys.argv[2]
TLS = sys.argv[3:7]


def log(line):
    with open(CONNLOG, 'a') as f:
        f.write(line + '\n')


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        # STARTTLS hands the same connection a new transport: count once
        if not getattr(self, '_counted', False):
            self._counted = True
            log('connection')
        super().connection_made(transport)


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    user = auth_data.login.decode()
    ok = user == TLS[2] and auth_data.password.decode() == TLS[3]
    log('auth %s %s' % (user, 'ok' if ok else 'refused'))
    return AuthResult(success=ok)


def run_hook():
    path = os.environ.get('SINK_HOOK')
    if not path:
        return
    try:
        with open(path) as f:
            lines = f.read().split('\n')
        os.unlink(path)
    except FileNotFoundError:
        return
    for line in lines:
        words = line.split()
        if len(words) == 3 and words[0] == 'REDIS-PAUSE':
            redis_pause(words[1], words[2])
        elif len(words) == 2 and words[0] == 'SLEEP':
            time.sleep(int(words[1]) / 1000)
        elif len(words) == 2:
            os.kill(int(words[1]), getattr(signal, 'SIG' + words[0]))


def redis_pause(sock, ms):
    args = [b'CLIENT', b'PAUSE', ms.encode(), b'WRITE']
    cmd = b'*%d\r\n' % len(args) + b''.join(
        b'$%d\r\n%s\r\n' % (len(a), a) for a in args)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(cmd)
        if not s.recv(64).startswith(b'+OK'):
            raise RuntimeError('CLIENT PAUSE refused')


class HookedMailbox(Mailbox):
    def handle_message(self, message):
        super().handle_message(message)
        run_hook()


def factory(handler, loop):
    if not TLS:
        return CountingSMTP(handler, loop=loop)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(TLS[0], TLS[1])
    return CountingSMTP(handler, loop=loop, tls_context=ctx,
                        require_starttls=True, authenticator=authenticator,
                        auth_required=True, auth_require_tls=True)


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
handler = HookedMailbox(MAILDIR)
server = loop.run_until_complete(loop.create_server(
    lambda: factory(handler, loop), '127.0.0.1',
    int(os.environ.get('SINK_PORT', '0')), reuse_address=True))
port = server.sockets[0].getsockname()[1]
with open(CONNLOG + '.port.tmp', 'w') as f:
    f.write(str(port))
os.rename(CONNLOG + '.port.tmp', CONNLOG + '.port')
loop.run_forever()
