"""A file the app sends is read and closed before the answer leaves the view: no answer holds
an open file whose closing depends on the server (Werkzeug's server, which ``geoapp serve``
runs without --workers, skips closing it when the client resets the connection: the file is
left to the garbage collector, a ResourceWarning)."""

from __future__ import annotations

import gc
import socket
import struct
import threading
import warnings

import pytest
from werkzeug.serving import make_server


def reset_after_asking(port: int, path: str, headers: str = "") -> None:
    """Ask for ``path``, wait for the answer to start, and drop the connection with a reset
    (as a browser does when the page moves on while its favicon loads)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    s.recv(1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


@pytest.fixture
def app(shared_app):
    """One app per module and backend (tests/web/conftest.py): these tests only read.  The
    clients (``client``, ``client_as``, ``anon_client``) are of this app."""
    return shared_app


RESETS = 20


@pytest.mark.parametrize("headers", ["", "If-None-Match: {etag}\r\n", "Range: bytes=0-9\r\n"])
@pytest.mark.parametrize("path", ["/favicon.ico", "/static/favicon.svg"])
def test_a_client_that_resets_leaves_no_file_open(app, path, headers):
    first = app.test_client().get(path)
    headers = headers.format(etag=first.headers["ETag"])  # a 304, a 206, a 200
    first.close()
    server = make_server("127.0.0.1", 0, app, threaded=False)
    handled = threading.Semaphore(0)
    done_with = server.shutdown_request  # called once each request is answered (or failed)

    def count(request):
        done_with(request)
        handled.release()

    server.shutdown_request = count
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(RESETS):
                reset_after_asking(server.server_port, path, headers)
            for _ in range(RESETS):  # every reset connection handled to its end
                assert handled.acquire(timeout=60), "the server stopped answering"
            gc.collect()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, leaks[0].message


def test_files_are_still_served_whole_with_their_headers(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and b"<svg" in r.data
    assert int(r.headers["Content-Length"]) == len(r.data)
    again = client.get("/favicon.ico", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    part = client.get("/static/favicon.svg", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == r.data[:10]
    # nothing to close: the test client's answers hold no file either
