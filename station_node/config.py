"""Default settings of a station; instance config, then KUAIGONG_STATION_* env override them."""

from __future__ import annotations

# Where the station keeps its database, keys and instance config.
# Set by `kuaigong station run --data`.
DATA_DIR = "instance"
# SQLite file inside DATA_DIR unless an absolute path is given.
DATABASE = "station.sqlite"
# Station identity; replaced at enrolment with the hub.
STATION_ID = "station-local"
STATION_NAME = "零工驿站"
# Announce the station on the LAN (mDNS `_kuaigong._tcp`) while `kuaigong station run` serves,
# so devices find it without typing its address.
ADVERTISE = True

# Bodies larger than this are refused with 413.
MAX_CONTENT_LENGTH = 256 * 1024

# Dispatch timings (seconds).
OFFER_TIMEOUT_SECONDS = 20
ESCALATE_AFTER_SECONDS = 45
DISPATCH_TARGET_SECONDS = 60
# How many workers receive an offer at the same time in the cascade, per open place.
OFFER_PARALLEL_PER_PLACE = 1
# A late cancellation is one made less than this many hours before the start.
LATE_CANCEL_HOURS = 12

# The kiosk (/kiosk/) and display board (/board/) pages show only in the browser of a screen
# paired with `kuaigong device kiosk|board` (or to staff signed in on the console); others get a
# page saying how to pair. False: any browser on the station's network sees them.
SCREENS_NEED_PAIRING = True

# Language of the user interfaces.
BABEL_DEFAULT_LOCALE = "zh_CN"
LANGUAGES = ["zh_CN", "en"]

# The station's address as phones on its Wi-Fi reach it (e.g. "http://192.168.1.10:8000"), for
# the QR codes on the board and on slips; empty: the address a request came in on unless that
# is loopback, else the address `kuaigong station run` serves on (services/phone_address.py).
PUBLIC_URL = ""
# A live event stream ends after this many seconds and the browser reconnects (see
# views/events.py): each open stream holds one of the server's threads meanwhile.
EVENTS_STREAM_SECONDS = 25

WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_SAMESITE = "Lax"

# The station's own phone number, printed on every job slip (empty: the slip says to see the
# station's notice board).
STATION_HOTLINE = ""
# The paired ID card reader (device id or name) whose cards sign residents in at the kiosk;
# None: any reader's.
IDCARD_READER_FOR_KIOSK = None
# Its cards reach only a kiosk at the address the reader posts from (the same machine); turn
# off for a reader wired to another machine.
IDCARD_KIOSK_SAME_ADDRESS = True
