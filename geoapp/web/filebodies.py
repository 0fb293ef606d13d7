"""Answers that send a file (static files, the favicon, photos, basemap tiles) read it whole
and close it before they leave the app.

``send_file`` answers with the open file, to be read and closed by the WSGI server.
Werkzeug's server (the live server of the browser tests, ``geoapp serve`` without
--workers) first drains the client's socket and only then closes the answer; when the
client has reset the connection (a browser leaving a page while its favicon loads) the drain
raises and the file stays open until the garbage collector finds it: a ResourceWarning, an
error in the test suite.  So no answer leaves holding an open file: files up to
:data:`LIMIT` bytes (all of the app's: static files, photos, tiles) are read now; a larger
one still streams.
"""

from __future__ import annotations

LIMIT = 32 * 1024 * 1024


def read_now(response):
    """``after_request``: a file answer's body read into memory and its file closed."""
    if not response.direct_passthrough or not response.is_streamed:
        return response
    not_modified = response.status_code == 304  # no body is sent: only close the file
    if not not_modified and (response.content_length is None or response.content_length > LIMIT):
        return response
    source = response.response
    try:
        response.response = [] if not_modified else [b"".join(source)]
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    response.direct_passthrough = False
    return response


def init_app(app) -> None:
    app.after_request(read_now)
