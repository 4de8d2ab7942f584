"""The station's side of sync: enrolment, push and pull over HTTP, bundles, scheduler job.

The protocol itself (bytes, signatures, verdicts) is `sync_protocol`; this package does the I/O:
it reads change-log rows, moves bytes to the hub and back, and keeps what the hub acknowledged
in DATA_DIR/sync/ (outside the database, so restoring an old database backup is noticed).
"""
