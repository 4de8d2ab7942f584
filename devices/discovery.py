"""Devices find their station on the local network with mDNS / DNS-SD (zeroconf).

The station PC advertises one `_kuaigong._tcp.local.` service; its TXT record carries the
station id, the station's name (UTF-8), the API version and the fingerprint of the station's
key. A kiosk, display board or phone browses for that type and gets typed `FoundStation`s with a
base URL to talk to. A device that has been paired passes the expected fingerprint, so a
different station on the same network (a neighbour's, a test PC) is refused rather than used.

mDNS is unauthenticated: the fingerprint check stops a device from talking to the wrong station
by mistake, not an attacker on the LAN. The signed sync handshake is what proves a station's key.

IPv4 only: every station network we know of hands out IPv4 addresses by DHCP.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import ifaddr
from zeroconf import (
    DNSQuestionType,
    IPVersion,
    NonUniqueNameException,
    ServiceBrowser,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)

log = logging.getLogger(__name__)

SERVICE_TYPE = "_kuaigong._tcp.local."
_TXT_ID = "id"
_TXT_NAME = "name"
_TXT_API = "api"
_TXT_FINGERPRINT = "fp"
# A TXT entry is at most 255 bytes including "name="; leave room for the key.
_MAX_NAME_BYTES = 240
_MAX_ID_CHARS = 40
_MAX_NAME_SUFFIX = 20


class DiscoveryError(Exception):
    """A discovery problem a person can act on; Chinese message with the English beside it."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} ({message_en})")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


class InvalidAdvertisement(DiscoveryError, ValueError):
    """The station's own details cannot be advertised as given."""

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__("invalid_advertisement", message_zh, message_en)
        self.field = field


class StationNotFound(DiscoveryError):
    """No (matching) station answered before the timeout."""


class StationFingerprintMismatch(DiscoveryError):
    """A station answered, but its key fingerprint is not the one this device expects."""

    def __init__(self, station: FoundStation, expected: str) -> None:
        super().__init__(
            "station_fingerprint_mismatch",
            f"驿站“{station.name}”（{station.station_id}）的密钥指纹与本机记录的不一致，"
            "已拒绝连接。它可能不是本机配对的驿站，或者驿站换过密钥；请联系管理员重新配对。",
            f"Station {station.name!r} ({station.station_id}) announced key fingerprint "
            f"{station.fingerprint}, but this device expects {expected}; refusing it. "
            "Re-pair the device if the station's key was changed.",
        )
        self.station = station
        self.expected = expected


@dataclass(frozen=True)
class FoundStation:
    """One station as a device saw it on the network."""

    station_id: str
    name: str
    api_version: str
    fingerprint: str
    addresses: tuple[str, ...]  # IPv4, most recently announced first
    port: int
    instance: str  # the mDNS service instance name

    @property
    def base_url(self) -> str:
        return f"http://{self.addresses[0]}:{self.port}"


def normalize_fingerprint(fingerprint: str) -> str:
    """Fingerprints compare without case, colons or spaces (people copy them in many forms)."""
    return "".join(ch for ch in fingerprint.lower() if ch not in ": -\t")


def _interface_addresses() -> frozenset[tuple[str, str]]:
    """(adapter, IPv4 address) for every interface except loopback."""
    found = set()
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                found.add((adapter.nice_name, ip.ip))
    return frozenset(found)


def lan_addresses() -> tuple[str, ...]:
    """This machine's IPv4 addresses other than loopback, in order."""
    return tuple(sorted({ip for _, ip in _interface_addresses()}))


def _host_label(station_id: str) -> str:
    """A DNS label (letters, digits, hyphens) naming the station, at most 63 bytes."""
    safe = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in station_id)
    return "kuaigong-" + safe.strip("-")[:_MAX_ID_CHARS]


def _check_advertised(station_id: str, name: str, port: int, fingerprint: str) -> None:
    if not station_id.strip() or len(station_id) > 64 or not station_id.isprintable():
        raise InvalidAdvertisement(
            "station_id",
            "驿站编号不能为空，最多 64 个字符，且不能含控制字符。",
            "The station id must be 1 to 64 printable characters.",
        )
    if not name.strip() or len(name.encode()) > _MAX_NAME_BYTES:
        raise InvalidAdvertisement(
            "name",
            f"驿站名称不能为空，最多 {_MAX_NAME_BYTES // 3} 个汉字（{_MAX_NAME_BYTES} 字节）。",
            f"The station name must be 1 to {_MAX_NAME_BYTES} bytes of UTF-8.",
        )
    if not 0 < port < 65536:
        raise InvalidAdvertisement(
            "port", f"端口号 {port} 无效，应在 1–65535 之间。", f"Port {port} is not 1-65535."
        )
    if not fingerprint.strip() or not fingerprint.isascii() or len(fingerprint) > 128:
        raise InvalidAdvertisement(
            "fingerprint",
            "密钥指纹不能为空，只能含 ASCII 字符，最多 128 个。",
            "The key fingerprint must be 1 to 128 ASCII characters.",
        )


class StationAdvertiser:
    """Announces this station on the LAN until stopped, following the machine's addresses.

    With `addresses=None` the station advertises every non-loopback IPv4 address of the machine
    and checks them every `address_check_interval` seconds: when DHCP hands out a new lease, the
    station re-announces itself so devices that are watching move to the new address.
    """

    def __init__(
        self,
        station_id: str,
        name: str,
        port: int,
        fingerprint: str,
        api_version: str = "1",
        addresses: Sequence[str] | None = None,
        *,
        address_check_interval: float = 5.0,
    ) -> None:
        _check_advertised(station_id, name, port, fingerprint)
        self.station_id = station_id
        self.name = name
        self.port = port
        self.fingerprint = fingerprint
        self.api_version = api_version
        self._fixed_addresses = tuple(addresses) if addresses is not None else None
        self._check_interval = address_check_interval
        self._base_label = _host_label(station_id)
        self._label = self._base_label
        self._lock = threading.RLock()
        self._zc: Zeroconf | None = None
        self._info: ServiceInfo | None = None
        self._seen: frozenset[tuple[str, str]] = frozenset()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def instance_name(self) -> str:
        """The full service name, with a suffix if another host had claimed ours."""
        return f"{self._label}.{SERVICE_TYPE}"

    @property
    def addresses(self) -> tuple[str, ...]:
        if self._fixed_addresses is not None:
            return self._fixed_addresses
        found = sorted({ip for _, ip in self._seen})
        # With no network at all, loopback still lets software on this PC find the station.
        return tuple(found) or ("127.0.0.1",)

    def start(self) -> None:
        """Probe for a unique name, announce, and start following address changes."""
        with self._lock:
            if self._zc is not None:
                raise RuntimeError("the advertiser is already started")
            self._seen = _interface_addresses()
            self._zc = Zeroconf(ip_version=IPVersion.V4Only)
            try:
                self._register()
            except BaseException:
                self._zc.close()
                self._zc = None
                raise
            if self._fixed_addresses is None:
                self._stopping.clear()
                self._watcher = threading.Thread(
                    target=self._follow_addresses, name="kuaigong-mdns-addresses", daemon=True
                )
                self._watcher.start()

    def stop(self) -> None:
        """Withdraw the station (goodbye packets, so devices forget it at once) and close."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        with self._lock:
            if self._zc is None:
                return
            if self._info is not None:
                self._zc.unregister_service(self._info)
                self._info = None
            self._zc.close()
            self._zc = None

    def update(self, *, name: str | None = None, fingerprint: str | None = None) -> None:
        """Change what the station announces (renamed station, new key) and re-announce."""
        with self._lock:
            new_name = self.name if name is None else name
            new_fingerprint = self.fingerprint if fingerprint is None else fingerprint
            _check_advertised(self.station_id, new_name, self.port, new_fingerprint)
            self.name, self.fingerprint = new_name, new_fingerprint
            if self._zc is not None:
                self._info = self._service_info()
                self._zc.update_service(self._info)

    def __enter__(self) -> StationAdvertiser:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _service_info(self) -> ServiceInfo:
        return ServiceInfo(
            SERVICE_TYPE,
            self.instance_name,
            port=self.port,
            properties={
                _TXT_ID: self.station_id,
                _TXT_NAME: self.name,
                _TXT_API: self.api_version,
                _TXT_FINGERPRINT: self.fingerprint,
            },
            server=f"{self._label}.local.",
            parsed_addresses=list(self.addresses),
        )

    def _register(self) -> None:
        """Register under our label; if another host holds it, try `-2`, `-3`, ..."""
        assert self._zc is not None
        base = self._base_label
        for number in range(1, _MAX_NAME_SUFFIX + 1):
            self._label = base if number == 1 else f"{base}-{number}"
            info = self._service_info()
            try:
                self._zc.register_service(info)
            except NonUniqueNameException:
                log.info("mDNS name %s is taken on this network; trying another", info.name)
                continue
            self._info = info
            return
        self._label = base
        raise DiscoveryError(
            "mdns_name_taken",
            f"局域网上已有 {_MAX_NAME_SUFFIX} 台机器以驿站 {self.station_id} 的名义广播，"
            "无法再广播本驿站。请关掉多余的驿站程序。",
            f"{_MAX_NAME_SUFFIX} hosts already advertise station {self.station_id} on this "
            "network; stop the extra station programs.",
        )

    def _follow_addresses(self) -> None:
        while not self._stopping.wait(self._check_interval):
            current = _interface_addresses()
            if current == self._seen:
                continue
            try:
                self._readvertise(current)
            except Exception:  # keep following: the next change may well succeed
                log.exception("re-announcing the station after an address change failed")

    def _readvertise(self, current: frozenset[tuple[str, str]]) -> None:
        with self._lock:
            if self._zc is None or self._stopping.is_set():
                return
            log.info("addresses changed from %s to %s; re-announcing", self._seen, current)
            self._seen = current
            # The new records go out first, so a device never sees the old address again (the
            # send from a vanished address fails; zeroconf logs that once). Then the sockets
            # follow the interfaces, and a new one re-announces the records already updated.
            self._info = self._service_info()
            self._zc.update_service(self._info)
            self._zc.update_interfaces()


def _station_from_info(info: ServiceInfo) -> FoundStation | None:
    """The station a resolved service describes, or None if it is not a complete one."""
    txt = info.decoded_properties
    station_id, name = txt.get(_TXT_ID), txt.get(_TXT_NAME)
    api, fingerprint = txt.get(_TXT_API), txt.get(_TXT_FINGERPRINT)
    addresses = tuple(info.parsed_addresses(IPVersion.V4Only))
    if not (station_id and name and api and fingerprint and addresses and info.port):
        log.debug("ignoring incomplete station record %s: %s", info.name, txt)
        return None
    return FoundStation(
        station_id=station_id,
        name=name,
        api_version=api,
        fingerprint=fingerprint,
        addresses=addresses,
        port=info.port,
        instance=info.name,
    )


class StationWatcher:
    """Keeps an up-to-date view of the stations on the LAN until stopped.

    `on_change` is called (from a zeroconf thread) with the full list after every change:
    a station appearing, changing its name, address or key, or saying goodbye.
    """

    def __init__(
        self,
        on_change: Callable[[list[FoundStation]], None] | None = None,
        *,
        resolve_timeout: float = 3.0,
    ) -> None:
        self._on_change = on_change
        self._resolve_ms = int(resolve_timeout * 1000)
        self._stations: dict[str, FoundStation] = {}
        self._changed = threading.Condition()
        self._zc: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> None:
        if self._zc is not None:
            raise RuntimeError("the watcher is already started")
        self._zc = Zeroconf(ip_version=IPVersion.V4Only)
        # Questions ask for multicast answers: a unicast answer goes to only one of the sockets
        # on port 5353 of this machine, and that may be another mDNS stack's (Avahi's).
        self._browser = ServiceBrowser(
            self._zc, SERVICE_TYPE, handlers=[self._on_service], question_type=DNSQuestionType.QM
        )

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.cancel()
            self._browser = None
        if self._zc is not None:
            self._zc.close()
            self._zc = None

    def stations(self) -> list[FoundStation]:
        with self._changed:
            return sorted(self._stations.values(), key=lambda s: (s.station_id, s.instance))

    def wait_for(
        self, accept: Callable[[FoundStation], bool], timeout: float
    ) -> FoundStation | None:
        """The first station `accept` takes, or None once `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for station in self._stations.values():
                    if accept(station):
                        return station
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def __enter__(self) -> StationWatcher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _on_service(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        # Browser handlers run on the browser's own thread, so resolving here may block.
        station = None
        if state_change is not ServiceStateChange.Removed:
            info = zeroconf.get_service_info(
                service_type, name, timeout=self._resolve_ms, question_type=DNSQuestionType.QM
            )
            station = _station_from_info(info) if info is not None else None
        with self._changed:
            if station is None:
                self._stations.pop(name, None)
            else:
                self._stations[name] = station
            self._changed.notify_all()
        if self._on_change is not None:
            self._on_change(self.stations())


def find_stations(timeout: float = 3.0) -> list[FoundStation]:
    """Every station that answers within `timeout` seconds."""
    with StationWatcher() as watcher:
        time.sleep(timeout)
        return watcher.stations()


def find_station(
    timeout: float = 5.0, station_id: str | None = None, fingerprint: str | None = None
) -> FoundStation:
    """The station with this id and key fingerprint, as soon as it answers.

    With neither given, the first station to answer (for pairing a new device). A station with
    the right id but another fingerprint is refused with `StationFingerprintMismatch` once the
    timeout passes without the right one answering.
    """
    expected = normalize_fingerprint(fingerprint) if fingerprint is not None else None

    def candidate(station: FoundStation) -> bool:
        return station_id is None or station.station_id == station_id

    def accept(station: FoundStation) -> bool:
        return candidate(station) and (
            expected is None or normalize_fingerprint(station.fingerprint) == expected
        )

    with StationWatcher() as watcher:
        found = watcher.wait_for(accept, timeout)
        others = [s for s in watcher.stations() if candidate(s)]
    if found is not None:
        return found
    if expected is not None and others:
        raise StationFingerprintMismatch(others[0], fingerprint or "")
    which_zh = f" {station_id}" if station_id else ""
    which_en = f" {station_id}" if station_id else ""
    raise StationNotFound(
        "station_not_found",
        f"找不到驿站{which_zh}：{timeout:g} 秒内局域网上没有驿站应答。请确认驿站电脑已开机、"
        "驿站程序正在运行，并且本设备与驿站连在同一个网络上。",
        f"No station{which_en} answered on the local network within {timeout:g} s. Check that "
        "the station PC is on, the station app is running, and this device is on its network.",
    )
