"""moto's server, one request at a time. Usage: moto_server.py HOST PORT [--keep-alive]

`python -m moto.server` serves requests on threads, and moto's DynamoDB backend does not
lock: two concurrent TransactWriteItems can both pass a condition that AWS would let only
one pass. Serialising requests restores DynamoDB's per-request atomicity, so the
conformance suite's concurrency tests (one email, one idempotent create, one If-Match
winner) test the adapter's conditions rather than the emulator's races. Requests from
concurrent clients still interleave between calls, as they do on AWS.

A deep listen backlog (below): one request at a time means connections wait in it.

Responses go out with TCP_NODELAY: werkzeug writes a response's head and body separately,
and with Nagle's algorithm the body waits for the client's delayed ACK (40 ms on Linux),
which would add 40 ms to every call the benchmark measures (AWS's endpoints do not).

`--keep-alive` (the benchmarks' mode): HTTP/1.1 persistent connections, as AWS's endpoints
keep them, served on threads (a persistent connection would otherwise hold the only one),
and still one call at a time (a lock around the application): threaded moto fails
concurrent calls outright ("dictionary changed size during iteration") besides racing them.
"""

import os
import socket
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, run_simple

# One request at a time, so connections queue in the listen backlog: werkzeug's 128 overflows
# when the racing-workers tests open a thousand at once, and a dropped SYN is retried after
# a second, past the functions' 1 s connect timeout. The kernel caps it (somaxconn, 4096).
BaseWSGIServer.request_queue_size = 4096


class NoDelayHandler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class KeepAliveHandler(NoDelayHandler):
    protocol_version = "HTTP/1.1"


class FairLock:
    """A lock taken in arrival order: `threading.Lock` lets a waiter starve behind later
    arrivals, and with hundreds of calls in flight one can wait past the client's timeout."""

    def __init__(self):
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self):
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            while ticket != self._serving:
                self._turns.wait()

    def __exit__(self, *_):
        with self._turns:
            self._serving += 1
            self._turns.notify_all()


def one_at_a_time(app):
    """The WSGI app behind a lock, its whole answer produced inside it."""
    lock = FairLock()

    def serialised(environ, start_response):
        with lock:
            answer = app(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()

    return serialised


def main(host, port, keep_alive):
    os.environ.setdefault("MOTO_PORT", port)
    app = DomainDispatcherApplication(create_backend_app)
    if keep_alive:
        run_simple(host, int(port), one_at_a_time(app), threaded=True, request_handler=KeepAliveHandler)
    else:
        run_simple(host, int(port), app, threaded=False, request_handler=NoDelayHandler)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--keep-alive" in sys.argv[3:])
