"""Every tunable of the app in one place, with what it trades (in the manner of rq's `defaults.py`).

Settings read from the environment are in loyalty.config; these are the fixed values the code is tuned with."""

WEBHOOK_OUTCOME_HEADER = "X-Loyalty-Webhook"
"""The header a webhook's answer names its outcome in (recorded, duplicate, refused and why)."""
