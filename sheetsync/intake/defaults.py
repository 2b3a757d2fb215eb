"""Every tunable of webhook intake, each with the reason for its value."""

SIGNATURE_TOLERANCE = 300
"""Seconds a signed timestamp may differ from our clock, in either direction."""
MAX_FIELD_CHARS = 2000
"""Longest single form value kept whole; longer ones are cut with a warning."""
MAX_DEPTH = 32
"""Deepest nesting of objects and lists accepted in a body; deeper ones are refused (400), never recursed into."""
MAX_CELL_CHARS = 20000
"""Longest text written to one cell (Need with extra lines); Google Sheets stops at 50,000."""
MAX_LABEL_CHARS = 200
"""Longest form label kept when an unmapped field is added to Need."""
MAX_IDEMPOTENCY_KEY = 255
"""Longest Idempotency-Key header accepted (Stripe's limit)."""
MAX_FORM_FIELDS = 500
"""Most fields one form-encoded body may carry."""
LEASE_SECONDS = 120
"""How long a flush owns claimed items before another flush may take them over."""
BATCH_SIZE = 5000
"""Submissions written to the sheet in one store write: a write's cost is mostly reading and planning the
sheet, not the rows it adds (on Google, three requests whatever the batch), so big batches let a busy
webhook's leads land in seconds within the Sheets quota. 5,000 rows of 24 columns stay far under Google's
10 MB per request and land well within LEASE_SECONDS."""
BACKOFF_BASE = 5
"""Seconds before the first retry of a failed item; doubled on every further failure."""
BACKOFF_MAX = 3600
"""Longest wait between two retries of one item."""
KEEP_DONE_DAYS = 30
"""Days a landed submission (and so its idempotency key) is kept before it is pruned."""
BUSY_TIMEOUT_MS = 10000
"""Milliseconds a writer waits for the SQLite lock held by another process before giving up."""
MAX_ATTEMPTS = 8
"""Tries before an item the sheet keeps refusing is set aside as needing attention (about 20 minutes of backoff)."""
MAX_AGE_HOURS = 24
"""Hours an item the sheet keeps refusing may wait before it is set aside as needing attention."""
ATTENTION_SHOWN = 50
"""Items needing attention listed in /api/status (the count covers them all)."""
