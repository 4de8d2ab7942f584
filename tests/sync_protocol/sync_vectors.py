"""Builds the test vectors in tests/vectors/ from fixed seed keys and times.

Run ``.venv/bin/python tests/sync_protocol/sync_vectors.py`` to rewrite them (only when the
protocol version changes); test_sync_vectors.py checks the files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_helpers import HUB, T0, seed_key, writer  # noqa: E402

from sync_protocol import (  # noqa: E402
    EpochReset,
    Hlc,
    Receipt,
    SigningKey,
    encode_entry,
    make_entry,
    sign_batch,
    sign_checkpoint,
    sign_receipt,
    sign_reset,
    write_bundle,
)
from sync_protocol.batches import entries_digest  # noqa: E402
from sync_protocol.calls import sign_call  # noqa: E402

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def build() -> dict[str, bytes]:
    """Every vector file's name and exact bytes."""
    out: dict[str, bytes] = {}
    st_a, st_a2, hub = seed_key("st-a"), seed_key("st-a-2"), seed_key(HUB)
    out["keys.json"] = (
        json.dumps(
            {
                name: {
                    "seed": k.seed().hex(),
                    "public_key": k.public_key.hex(),
                    "key_id": k.key_id,
                    "seed_rule": f'SHA-256("kuaigong test key {name}")',
                }
                for name, k in (("st-a", st_a), ("st-a-2", st_a2), (HUB, hub))
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    ).encode()

    entry = make_entry(
        station="st-a",
        epoch=1,
        seq=1,
        prev_hash=None,
        hlc=Hlc(T0, 0),
        entity="worker",
        entity_id="w-0001",
        op="create",
        fields={
            "name": "张三",
            "id_hash": "9f" * 32,
            "skills": ["cleaning", "cooking"],
            "availability": {"days": [0, 1, 2], "from": "08:00", "to": "18:00"},
            "pay_fen": 25000,
            "priority": False,
            "note": None,
        },
    )
    out["entry.kg"] = encode_entry(entry)
    out["entry.sha256"] = hashlib.sha256(out["entry.kg"]).hexdigest().encode() + b"\n"

    w = writer("st-a", st_a)
    raws = [
        w.append("worker", "w-0001", "create", {"name": "张三", "mobile": "13800138000"}, T0).raw,
        w.append(
            "job",
            "j-0001",
            "create",
            {"title": "搬家帮工", "pay_fen": 20000, "pay_unit": "day", "headcount": 2},
            T0 + 1000,
        ).raw,
        w.append(
            "assignment",
            "a-j0001-w0001",
            "create",
            {"job_id": "j-0001", "worker_id": "w-0001", "status": "confirmed"},
            T0 + 2000,
        ).raw,
    ]
    chain = w.sign(raws, T0 + 3000, covering=False)
    out["chain.batch"] = chain
    out["checkpoint.kg"] = b"".join(line + b"\n" for line in chain.split(b"\n")[:2])

    tampered = chain.replace("搬家帮工".encode(), "搬家帮手".encode())
    out["tampered.batch"] = tampered

    fork_w = writer("st-a", st_a)  # same key, same first two entries, a different third
    fork_w.seq, fork_w.head = 2, hashlib.sha256(raws[1]).hexdigest()
    fork_w.clock.receive(Hlc(T0 + 1000, 0), T0 + 1000)
    fork_raws = raws[:2] + [
        fork_w.append("job", "j-0001", "update", {"status": "cancelled"}, T0 + 2500).raw
    ]
    fork = fork_w.sign(fork_raws, T0 + 3000, covering=False)
    out["fork.batch"] = fork
    out["fork-accepted.checkpoint"] = out["checkpoint.kg"]
    out["fork-conflicting.checkpoint"] = b"".join(line + b"\n" for line in fork.split(b"\n")[:2])

    rot = writer("st-a", st_a)
    rot_raws = [
        rot.append("worker", "w-0002", "update", {"mobile": "13900139000"}, T0).raw,
        rot.rotate(st_a2, T0 + 100).raw,
    ]
    out["rotation.batch"] = rot.sign(rot_raws, T0 + 200, covering=False)
    rot.key = st_a2
    after = [rot.append("worker", "w-0002", "update", {"name": "李四"}, T0 + 300).raw]
    out["after-rotation.batch"] = rot.sign(after, T0 + 400, covering=False)

    head3 = hashlib.sha256(raws[2]).hexdigest()
    out["receipt.kg"] = sign_receipt(Receipt("st-a", 1, 3, head3, HUB, 7, T0 + 5000), hub)
    out["reset.kg"] = sign_reset(
        EpochReset(
            "st-a", HUB, 2, 2, hashlib.sha256(raws[1]).hexdigest(), Hlc(T0 + 2000, 0), 8, T0 + 6000
        ),
        hub,
    )
    out["bundle.kgb"] = write_bundle(
        station="st-a",
        hub=HUB,
        direction="to_hub",
        epoch=1,
        first=1,
        last=3,
        parts=[("batch", chain)],
    )
    out.update(_covering(raws, st_a))
    return out


def _covering(raws: list[bytes], key: SigningKey) -> dict[str, bytes]:
    """Vectors of the covering checkpoint and signed call (docs/sync-protocol.md, section 12)."""
    out: dict[str, bytes] = {}
    covered = sign_batch(raws, key, Hlc(T0 + 3000, 0))
    out["covered.batch"] = covered
    out["covered-altered.batch"] = covered.replace("搬家帮工".encode(), "搬家帮手".encode())
    lines = [raws[0], raws[2]]  # entry 2 left out: the signer's own batch breaks its chain
    body = b"".join(line + b"\n" for line in lines)
    out["covered-broken.batch"] = (
        sign_checkpoint(
            station="st-a",
            epoch=1,
            seq=3,
            head=hashlib.sha256(raws[2]).hexdigest(),
            hlc=Hlc(T0 + 3000, 0),
            key=key,
            entries=entries_digest(body),
        )
        + body
    )
    header = sign_call("st-a", "POST", "/stations/st-a/push", covered, T0 + 3000, "0f" * 16, key)
    out["call.kg"] = bytes.fromhex(header)
    return out


def main() -> None:
    """Rewrite tests/vectors/ from `build()`."""
    VECTORS.mkdir(exist_ok=True)
    for name, data in build().items():
        (VECTORS / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
