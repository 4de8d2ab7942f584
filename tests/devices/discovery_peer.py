"""One side of the two-host discovery test, run inside a network namespace.

    python discovery_peer.py station <station_id> <name> <port> <fingerprint> <check_interval>
    python discovery_peer.py device

Each side prints one JSON object a line on stdout and takes commands on stdin:
the station `stop`s; the device `find <seconds>`s (a fresh browse) or `quit`s, and prints the
stations it is watching every time they change.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict

from devices.discovery import FoundStation, StationAdvertiser, StationWatcher, find_stations

_print_lock = threading.Lock()


def _say(event: str, **fields: object) -> None:
    with _print_lock:
        print(json.dumps({"event": event, **fields}, ensure_ascii=False), flush=True)


def _as_json(stations: list[FoundStation]) -> list[dict[str, object]]:
    return [{**asdict(s), "base_url": s.base_url} for s in stations]


def _station(station_id: str, name: str, port: str, fingerprint: str, interval: str) -> None:
    advertiser = StationAdvertiser(
        station_id, name, int(port), fingerprint, address_check_interval=float(interval)
    )
    advertiser.start()
    _say("started", instance=advertiser.instance_name, addresses=list(advertiser.addresses))
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    advertiser.stop()
    _say("stopped")


def _device() -> None:
    with StationWatcher(lambda stations: _say("stations", stations=_as_json(stations))):
        _say("watching")
        for line in sys.stdin:
            command = line.split()
            if command and command[0] == "find":
                _say("found", stations=_as_json(find_stations(float(command[1]))))
            elif command == ["quit"]:
                break


if __name__ == "__main__":
    if sys.argv[1] == "station":
        _station(*sys.argv[2:7])
    else:
        _device()
