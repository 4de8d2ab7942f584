"""Default settings of the hub; instance config.py, then KUAIGONG_HUB_* env override them."""

from __future__ import annotations

# Folder for the SQLite file (default engine), the hub's keys and instance config.
DATA_DIR = "hub-data"
# peewee `playhouse.db_url` address; empty means `sqlite:///<DATA_DIR>/hub.sqlite`.
# PostgreSQL in production: postgresql://user@host:5432/dbname
DATABASE_URL = ""
# PostgreSQL only: the schema the hub's tables live in (tests give every run its own).
DATABASE_SCHEMA = ""

HUB_ID = "hub"
CITY_NAME = "快工城市枢纽"

# One-time enrolment codes expire after this many hours.
ENROLMENT_CODE_HOURS = 24
# Largest push body accepted (bytes, after gzip is undone as well as before).
MAX_CONTENT_LENGTH = 4 * 1024 * 1024
MAX_PUSH_BYTES = 16 * 1024 * 1024
# Out-of-order batches held per station until the gap before them closes: beyond either cap a
# push that would be held is refused (`held_batches_full`, HTTP 429) instead of growing without end.
MAX_HELD_BATCHES = 64
MAX_HELD_BYTES = 64 * 1024 * 1024
# Most hub-log entries served by one pull.
HUB_LOG_PAGE = 500
# A station whose wall clock is off by more than this is flagged on the stations page.
CLOCK_OFFSET_LIMIT_SECONDS = 300
# Signed station requests (hub-log pulls) older or newer than this are refused.
REQUEST_SKEW_SECONDS = 600

# City targets for the end of 2027.
TARGET_WORKERS = 200_000
TARGET_JOBS = 50_000
DISPATCH_TARGET_SECONDS = 60
HOTLINE = "12333"

# werkzeug password hash method for admin accounts.
PASSWORD_HASH_METHOD = "scrypt"

BABEL_DEFAULT_LOCALE = "zh_CN"
LANGUAGES = ["zh_CN", "en"]
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True

# People read times in this zone; the database keeps naive UTC.
TIME_ZONE = "Asia/Shanghai"
# Annual evaluation: a failed station has this many days to rectify; a screening hold counts as
# reviewed in time within these hours of posting, a complaint as closed in time within these days.
EVALUATION_RECTIFY_DAYS = 90
EVALUATION_HOLD_REVIEW_HOURS = 24
EVALUATION_COMPLAINT_DAYS = 7
