"""Devices find the station with real zeroconf packets.

Loopback multicast never leaves the host, so the main test builds two hosts as far as mDNS can
tell: two network namespaces joined by a veth pair, the station advertising in one and a device
watching from the other. The refusals run quickly on this host.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devices.discovery import (
    InvalidAdvertisement,
    StationAdvertiser,
    StationFingerprintMismatch,
    StationNotFound,
    StationWatcher,
    find_station,
)

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("discovery_peer.py")
FINGERPRINT = "3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6"
INSTANCE = "kuaigong-st-7._kuaigong._tcp.local."  # the station in the two-host test


def _unique_id() -> str:
    return "st-" + secrets.token_hex(4)


# --- on this host --------------------------------------------------------------------------


def test_a_station_with_another_key_is_refused_and_renames_are_seen() -> None:
    station_id = _unique_id()
    with StationAdvertiser(station_id, "朝阳门零工驿站", 8080, "3F:9A:0C") as advertiser:
        found = find_station(5, station_id=station_id, fingerprint="3f9a0c")
        assert (found.name, found.fingerprint, found.port) == ("朝阳门零工驿站", "3F:9A:0C", 8080)
        assert found.base_url == f"http://{found.addresses[0]}:8080"

        with pytest.raises(StationFingerprintMismatch) as refused:
            find_station(1.5, station_id=station_id, fingerprint="00:11:22")
        assert refused.value.station.station_id == station_id
        assert "密钥指纹" in refused.value.message_zh and "00:11:22" in refused.value.message_en

        with StationWatcher() as watcher:
            assert watcher.wait_for(lambda s: s.station_id == station_id, 5) is not None
            advertiser.update(name="东直门零工驿站", fingerprint="aa:bb")
            renamed = watcher.wait_for(
                lambda s: s.station_id == station_id and s.name == "东直门零工驿站", 5
            )
        assert renamed is not None and renamed.fingerprint == "aa:bb"


def test_nothing_answering_is_a_clear_error_in_time() -> None:
    started = time.monotonic()
    with pytest.raises(StationNotFound) as missing:
        find_station(0.5, station_id=_unique_id())
    assert time.monotonic() - started < 3
    assert missing.value.message_zh.startswith("找不到驿站")
    assert "0.5 秒" in missing.value.message_zh


def test_bad_station_details_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(InvalidAdvertisement) as too_long:
        StationAdvertiser("st-1", "驿" * 100, 8080, FINGERPRINT)
    assert too_long.value.field == "name"
    with pytest.raises(InvalidAdvertisement) as bad_port:
        StationAdvertiser("st-1", "驿站", 0, FINGERPRINT)
    assert bad_port.value.field == "port"


# --- between two hosts ------------------------------------------------------------------------


def _ip_or_skip() -> str:
    """The `ip` command, or skip — but fail under CI, where this test must run."""
    ip = shutil.which("ip")
    problem = None
    if os.geteuid() != 0:
        problem = "creating network namespaces needs root"
    elif ip is None:
        problem = "the `ip` command (iproute2) is not installed"
    if problem is not None or ip is None:
        message = f"two-host discovery test: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return ip


@dataclass
class Lan:
    ip: str
    station_ns: str
    device_ns: str
    station_link: str
    subnet: str  # "10.77.N"

    def run(self, *args: str) -> None:
        done = subprocess.run([self.ip, *args], capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr}"

    def move_station(self, old: str, new: str) -> None:
        """What a new DHCP lease does: the new address arrives, the old one goes."""
        self.run("-n", self.station_ns, "addr", "add", f"{new}/24", "dev", self.station_link)
        self.run("-n", self.station_ns, "addr", "del", f"{old}/24", "dev", self.station_link)


@pytest.fixture
def lan() -> Iterator[Lan]:
    ip = _ip_or_skip()
    tag = secrets.token_hex(3)
    net = Lan(
        ip, f"kg-st-{tag}", f"kg-dev-{tag}", f"kgs{tag}", f"10.77.{secrets.randbelow(250) + 2}"
    )
    created: list[str] = []
    try:
        for ns in (net.station_ns, net.device_ns):
            net.run("netns", "add", ns)
            created.append(ns)
        device_link = f"kgd{tag}"
        net.run(
            "link", "add", net.station_link, "netns", net.station_ns, "type", "veth",
            "peer", "name", device_link, "netns", net.device_ns,
        )  # fmt: skip
        for ns, link, host in (
            (net.station_ns, net.station_link, 1),
            (net.device_ns, device_link, 2),
        ):
            net.run("-n", ns, "addr", "add", f"{net.subnet}.{host}/24", "dev", link)
            net.run("-n", ns, "link", "set", "lo", "up")
            net.run("-n", ns, "link", "set", link, "up")
        # A new lease is added before the old one goes; keep it when the old primary is deleted.
        promote = f"/proc/sys/net/ipv4/conf/{net.station_link}/promote_secondaries"
        write = f"open({promote!r}, 'w').write('1')"
        net.run("netns", "exec", net.station_ns, sys.executable, "-c", write)
        yield net
    finally:
        for ns in created:
            subprocess.run([ip, "netns", "delete", ns], capture_output=True, timeout=10)


class Peer:
    """discovery_peer.py inside a namespace; its JSON lines arrive on a queue."""

    def __init__(self, lan: Lan, ns: str, *args: str) -> None:
        self._stderr = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
        self.proc = subprocess.Popen(
            [lan.ip, "netns", "exec", ns, sys.executable, str(PEER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            encoding="utf-8",
            cwd=ROOT,
            env=env,
        )
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(
        self,
        event: str,
        accept: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 10,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            seen.append(line)
            if line["event"] == event and accept(line):
                return line
        self._stderr.seek(0)
        errors = self._stderr.read().decode(errors="replace")[-3000:]
        pytest.fail(f"no {event!r} line within {timeout} s; saw {seen}; stderr:\n{errors}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._stderr.close()


def _station(event: dict[str, Any], instance: str = INSTANCE) -> dict[str, Any] | None:
    return next((s for s in event["stations"] if s["instance"] == instance), None)


@pytest.mark.netns
def test_a_device_on_another_host_finds_follows_and_loses_the_station(lan: Lan) -> None:
    station_ip, moved_ip = f"{lan.subnet}.1", f"{lan.subnet}.3"
    peers: list[Peer] = []
    try:
        station = Peer(
            lan, lan.station_ns, "station", "st-7", "朝阳门零工驿站", "8080", FINGERPRINT, "0.3"
        )
        peers.append(station)
        assert station.expect("started")["addresses"] == [station_ip]

        # A second program claiming the same station on another host takes a suffixed name.
        # (It runs before the device starts: a unicast answer to its probe must reach it, not
        # another program on its host that also listens on port 5353.)
        twin = Peer(lan, lan.device_ns, "station", "st-7", "旧电脑", "8080", FINGERPRINT, "5")
        peers.append(twin)
        twin_instance = "kuaigong-st-7-2._kuaigong._tcp.local."
        assert twin.expect("started")["instance"] == twin_instance

        device = Peer(lan, lan.device_ns, "device")
        peers.append(device)
        device.expect("watching")
        device.expect("stations", lambda e: None not in (_station(e), _station(e, twin_instance)))
        twin.send("stop")
        twin.expect("stopped")

        # Found across the wire, with the TXT record intact and the station's own address; the
        # twin's goodbye took only the twin away.
        alone = device.expect("stations", lambda e: _station(e, twin_instance) is None, timeout=5)
        seen = _station(alone)
        assert seen == {
            "station_id": "st-7",
            "name": "朝阳门零工驿站",
            "api_version": "1",
            "fingerprint": FINGERPRINT,
            "addresses": [station_ip],
            "port": 8080,
            "instance": INSTANCE,
            "base_url": f"http://{station_ip}:8080",
        }

        # A new DHCP lease: the station re-announces itself and watching devices follow.
        lan.move_station(station_ip, moved_ip)
        moved = device.expect(
            "stations",
            lambda e: (_station(e) or {}).get("base_url") == f"http://{moved_ip}:8080",
        )
        assert (_station(moved) or {}).get("name") == "朝阳门零工驿站"
        device.send("find 1.5")
        fresh = _station(device.expect("found"))
        assert fresh is not None and fresh["addresses"] == [moved_ip]

        # Stopping says goodbye: the device forgets the station long before any TTL runs out.
        station.send("stop")
        station.expect("stopped")
        device.expect("stations", lambda e: _station(e) is None, timeout=5)
    finally:
        for peer in peers:
            peer.close()
