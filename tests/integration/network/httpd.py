"""The lab's HTTP server (run inside the server namespace).

Serves files from ``--dir``; in addition:

* ``/stall/<name>``: sends the headers and one byte, then nothing (a stalled server);
* ``/huge/<bytes>``: a generated body of that many bytes with Content-Length;
* ``/stream/<bytes>``: the same without Content-Length (size known only at the end).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def _generate(self, size: int, *, length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        block = b"\0" * (1024 * 1024)
        sent = 0
        try:
            while sent < size:
                n = min(len(block), size - sent)
                self.wfile.write(block[:n])
                sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:
        parts = self.path.split("/")
        if len(parts) >= 3 and parts[1] == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(3600)
            return
        if len(parts) == 3 and parts[1] in ("huge", "stream") and parts[2].isdigit():
            self._generate(int(parts[2]), length=parts[1] == "huge")
            return
        super().do_GET()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port", type=int, default=8080)
    args = ap.parse_args()
    handler = functools.partial(Handler, directory=args.dir)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
