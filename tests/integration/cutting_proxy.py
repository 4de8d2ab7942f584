"""A TCP proxy in front of the hub that cuts chosen connections short, for hostile-network tests.

`cut_request`: forward the headers and half the body of the next push, then drop the link.
`cut_reply`: forward the whole push, then drop the link before the hub's reply gets through.
"""

from __future__ import annotations

import socket
import threading


class CuttingProxy:
    """Listens on 127.0.0.1:<free port> and forwards to the hub at `target_port`."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.mode: str | None = None  # "cut_request" | "cut_reply" | None (pass through)
        self.cuts = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            headers, _, body = head.partition(b"\r\n\r\n")
            length = 0
            for line in headers.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                data = conn.recv(65536)
                if not data:
                    return
                body += data
            is_push = headers.startswith(b"POST") and b"/push" in headers.split(b"\r\n")[0]
            mode = self.mode if is_push else None
            if mode == "cut_request":
                self.mode, self.cuts = None, self.cuts + 1
                upstream.sendall(headers + b"\r\n\r\n" + body[: max(1, length // 2)])
                return
            upstream.sendall(headers + b"\r\n\r\n" + body)
            reply = b""
            upstream.settimeout(10)
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                reply += data
                if _complete(reply):
                    break
            reply = reply.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            if mode == "cut_reply":
                self.mode, self.cuts = None, self.cuts + 1
                conn.sendall(reply[: len(reply) // 2])
                return
            conn.sendall(reply)
        finally:
            upstream.close()
            conn.close()


def _complete(reply: bytes) -> bool:
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False
