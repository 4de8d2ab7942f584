"""A simulated ID card reader answering GA 467 frames on a real pseudo-terminal.

The driver opens `reader.port` with pyserial like any serial port; a thread reads its requests
off the pty's master side and answers as a reader module would. Tests and the demo place and
remove cards, corrupt the next answer's check byte, or silence the reader.

    python -m devices.simulated.idcard     # prints the port; type a number to place a card
"""

from __future__ import annotations

import os
import select
import sys
import threading
import tty
from datetime import date

from devices.idcard import (
    FIND_CARD,
    HEADER_SIZE,
    PREAMBLE,
    READ_BASE_MESSAGE,
    SELECT_CARD,
    STATUS_BAD_CHECK_BYTE,
    STATUS_BAD_LENGTH,
    STATUS_FOUND,
    STATUS_NO_CARD,
    STATUS_OK,
    BadFrame,
    IdCard,
    Request,
    Response,
    decode_request,
    encode_base_message,
    encode_response,
    encode_text,
    request_length,
)

# Sample cards for tests and the demo. The names say they are samples; the ID numbers are made
# up but pass their check digit, so the driver accepts them as it would a real card.
SAMPLE_CARDS: tuple[IdCard, ...] = (
    IdCard(
        name="样例张三",
        sex="M",
        ethnicity="汉",
        birth_date=date(1990, 3, 7),
        address="北京市东城区样例胡同1号",
        id_number="110101199003071233",
        issuing_office="北京市公安局东城分局",
        valid_from=date(2015, 6, 1),
        valid_until=date(2035, 6, 1),
    ),
    IdCard(
        name="样例·阿依古丽",
        sex="F",
        ethnicity="维吾尔",
        birth_date=date(1985, 4, 12),
        address="新疆维吾尔自治区乌鲁木齐市天山区样例路88号院3号楼2单元501室",
        id_number="650102198504120029",
        issuing_office="乌鲁木齐市公安局天山区分局",
        valid_from=date(2010, 5, 20),
        valid_until=date(2030, 5, 20),
    ),
    IdCard(
        name="样例王芳",
        sex="F",
        ethnicity="回",
        birth_date=date(1962, 4, 12),
        address="北京市西城区样例街8号",
        id_number="110102196204120022",
        issuing_office="北京市公安局西城分局",
        valid_from=date(2012, 8, 1),
        valid_until=None,
    ),
    IdCard(
        name="样例李四",
        sex="F",
        ethnicity="蒙古",
        birth_date=date(1992, 6, 12),
        address="内蒙古自治区呼和浩特市新城区样例大街6号",
        id_number="150102199206120043",
        issuing_office="呼和浩特市公安局新城区分局",
        valid_from=date(2010, 7, 1),
        valid_until=date(2020, 7, 1),  # expired
    ),
)

# Requests longer than this are garbage: drop their preamble and look for the next one.
_MAX_REQUEST = 1024


class SimulatedIdCardReader:
    """A reader module on a pty; use as a context manager, or start() and stop()."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        # Raw from the start: no echo, no newline translation, whatever the driver sets later.
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._text: bytes | None = None
        self._corrupt_next = False
        self._silent = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="simulated-idcard", daemon=True)

    def start(self) -> SimulatedIdCardReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> SimulatedIdCardReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def place(self, card: IdCard) -> None:
        """Put `card` on the reader."""
        self.place_text(encode_text(card))

    def place_text(self, text: bytes) -> None:
        """Put a card holding exactly this 256-byte text (one an IdCard would refuse, say)."""
        with self._lock:
            self._text = text

    def remove(self) -> None:
        """Take the card away."""
        with self._lock:
            self._text = None

    def corrupt_next_frame(self) -> None:
        """Send the next answer with a wrong check byte, as line noise would."""
        with self._lock:
            self._corrupt_next = True

    def go_silent(self, silent: bool = True) -> None:
        """Stop answering (a reader without power), or answer again."""
        with self._lock:
            self._silent = silent

    def answer(self, request: Request) -> Response:
        """What the reader says to `request` with the card it holds now."""
        with self._lock:
            text = self._text
        command = (request.cmd, request.para)
        if command in (FIND_CARD, SELECT_CARD):
            if text is None:
                return Response(0, 0, STATUS_NO_CARD)
            if command == FIND_CARD:
                return Response(0, 0, STATUS_FOUND, bytes(4))
            return Response(0, 0, STATUS_OK, bytes(8))
        if command == READ_BASE_MESSAGE:
            if text is None:
                return Response(0, 0, STATUS_NO_CARD)
            return Response(0, 0, STATUS_OK, encode_base_message(text))
        return Response(0, 0, 0x21)  # a command this reader does not know

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                pending += os.read(self._master, 4096)
            except OSError:
                return  # the pty was closed under us: stop() is on its way
            pending = self._answer_all(pending)

    def _answer_all(self, pending: bytes) -> bytes:
        """Answer every complete request in `pending`; what is left waits for more bytes."""
        while True:
            start = pending.find(PREAMBLE)
            if start < 0:
                return pending[-(len(PREAMBLE) - 1) :]  # keep a preamble's possible beginning
            pending = pending[start:]
            if len(pending) < HEADER_SIZE:
                return pending
            try:
                length = request_length(pending[:HEADER_SIZE])
            except BadFrame:
                length = _MAX_REQUEST + 1
            if length > _MAX_REQUEST:
                pending = pending[len(PREAMBLE) :]
                continue
            if len(pending) < HEADER_SIZE + length:
                return pending
            frame, pending = pending[: HEADER_SIZE + length], pending[HEADER_SIZE + length :]
            self._reply(frame)

    def _reply(self, frame: bytes) -> None:
        try:
            response = self.answer(decode_request(frame))
        except BadFrame as error:
            status = STATUS_BAD_CHECK_BYTE if error.problem == "check_byte" else STATUS_BAD_LENGTH
            response = Response(0, 0, status)
        with self._lock:
            if self._silent:
                return
            corrupt, self._corrupt_next = self._corrupt_next, False
        data = encode_response(response)
        if corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        while data:
            data = data[os.write(self._master, data) :]


_HELP = (
    "输入编号放卡，0 取走，c 下一帧校验字节出错，q 退出 "
    "(number: place, 0: remove, c: corrupt, q: quit)"
)


def main() -> int:
    """Run a simulated reader until `q` or end of input, placing cards as the user types."""
    with SimulatedIdCardReader() as reader:
        print(f"模拟身份证阅读器 / simulated ID card reader: {reader.port}", flush=True)
        for number, card in enumerate(SAMPLE_CARDS, 1):
            until = "长期" if card.valid_until is None else card.valid_until.isoformat()
            print(f"  {number}  {card.name}  {card.id_number}  有效期至 {until}")
        print(_HELP, flush=True)
        for line in sys.stdin:
            choice = line.strip().lower()
            if choice == "q":
                break
            if choice == "0":
                reader.remove()
                print("已取走 / removed", flush=True)
            elif choice == "c":
                reader.corrupt_next_frame()
                print("下一帧校验字节出错 / next frame corrupted", flush=True)
            elif choice.isdigit() and 1 <= int(choice) <= len(SAMPLE_CARDS):
                card = SAMPLE_CARDS[int(choice) - 1]
                reader.place(card)
                print(f"已放卡 / placed: {card.name}", flush=True)
            elif choice:
                print(_HELP, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
