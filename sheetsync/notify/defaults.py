"""Tunables of the notification sender, each with what it means."""

from __future__ import annotations

GROUP_ABOVE = 3
"""More new leads than this for one owner in one write (an import, a handover) become one combined message."""
SEND_INTERVAL = 15
"""Seconds between runs of the send job in serve/worker."""
SEND_BATCH = 20
"""Deliveries one run of the send job attempts at most."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a chat tool or mail server to accept the connection."""
READ_TIMEOUT = 15.0
"""Seconds to wait for its answer."""
RETRY_DELAYS = (60, 300, 1800, 7200, 21600)
"""Seconds before each retry of a failed delivery; after the last one it is given up (and shown in status)."""
KEEP_SENT_DAYS = 60
"""Days sent deliveries are kept in the sent log (they stop duplicates of the same message)."""
