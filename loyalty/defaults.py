"""Every tunable of the app in one place, with what it trades (in the manner of rq's `defaults.py`).

Settings read from the environment are in loyalty.config; these are the fixed values the code is tuned with."""
from datetime import timedelta

WEBHOOK_OUTCOME_HEADER = "X-Loyalty-Webhook"
"""The header a webhook's answer names its outcome in (recorded, duplicate, refused and why)."""


# -- Webhook intake -------------------------------------------------------------------------------
SHOP_CACHE_SECONDS = 5.0
"""Installed shops are re-read this often, so an uninstall or reinstall takes effect within seconds."""
UNKNOWN_SHOP_SECONDS = 0.5
"""A shop not in the cache is looked for again after this long at most: a shop installed a moment ago
(possibly by another process) has its first webhooks accepted, while webhooks naming shops that do not
exist cost at most two reads a second."""
GROUP_COMMIT_MAX_BATCH = 256
"""Rows per transaction at most; a web process rarely has more requests in flight than threads."""
GROUP_COMMIT_FOLLOWER_WAIT_SECONDS = 5.0
"""A request whose batch has not been written after this long gives up (answered 503, so Shopify retries;
if the row does land meanwhile, the retry is recognised as a duplicate)."""
WAKE_INTERVAL_SECONDS = 0.02
"""A web process asks Redis for a wake-up at most this often; the webhooks committed in between are
covered by one wake-up sent at the end of the interval (so points wait at most this much longer)."""


# -- Applying webhooks (the inbox job) ------------------------------------------------------------
INBOX_LEASE = timedelta(seconds=120)
"""How long a claimed row is reserved for one worker; longer than any batch takes."""
INBOX_MAX_ATTEMPTS = 8
"""After this many failures a row is marked failed (visible with `loyalty inbox failed`) and left alone."""
INBOX_MAX_BATCHES_PER_JOB = 10_000
INBOX_JOB_SECONDS = 10.0
"""A job stops after this long even if rows keep arriving, and queues its continuation: a deploy stopping the worker waits for
one slice at most, and several workers take turns on PostgreSQL."""
INBOX_BATCH_SECONDS = 0.2
"""What one batch transaction should take at most (it holds SQLite's write lock that long); the next
batch's size follows from the last one's speed, between MIN_BATCH and LOYALTY_BATCH_SIZE rows."""
INBOX_MIN_BATCH = 10
INBOX_SWEEP_AFTER = timedelta(seconds=5)
"""A recorded webhook still waiting after this long is assumed to have lost its wake-up job."""


# -- Balance write-back to Shopify ----------------------------------------------------------------
SYNC_SLICE_SECONDS = 1.0
"""A queued sync job (wake-up or scheduler) stops after the pass that goes past this and queues its
continuation behind the jobs waiting meanwhile on the background queue (emails, imports): none waits for a
long write-back. (Webhooks have a queue and a worker of their own.)"""
SYNC_BATCH = 50
"""Customers per pass; 5 metafields each, so 10 calls of 25 at most. A pass's transaction holds SQLite's
write lock (perks are granted in it), so it is kept short: webhooks wait for that lock at ingest."""
SYNC_MAX_PASSES = 50
"""Passes per shop and job, so a shop whose balances never stop changing cannot hold a worker forever."""
BULK_PREPARE_CHUNK = 200
"""Customers per preparing transaction (it holds SQLite's write lock while perks are refreshed)."""
BULK_RESULT_CHUNK = 2000
"""Result lines applied per transaction."""
BULK_LEASE_SECONDS = 120
"""A worker owns a write for this long after its last step; a worker that died lets go when it lapses."""
BULK_START_SKEW = timedelta(minutes=5)
"""Clock difference allowed between this host and Shopify when recognising an operation we started."""
SYNC_FIRST_RETRY = timedelta(minutes=1)
SYNC_MAX_RETRY = timedelta(hours=6)


# -- Customer emails ------------------------------------------------------------------------------
EMAIL_BATCH = 10
"""Rows claimed at a time; at SMTP_TIMEOUT (20 s) each, a batch fits well inside the lease."""
EMAIL_LEASE = timedelta(minutes=5)
EMAIL_MAX_ATTEMPTS = 6
"""Tries over about an hour (1, 2, 4, 8, 16 minutes apart); then the row is failed."""
EMAIL_MAX_BATCHES = 100

# -- Shopify Flow triggers -------------------------------------------------------------------------
FLOW_BATCH = 50
"""Triggers claimed at a time (one flowTriggerReceive each, a few hundred ms): well inside the lease."""
FLOW_LEASE = timedelta(minutes=5)
FLOW_MAX_ATTEMPTS = 8
"""Tries over about four hours (1, 2, 4 ... 64 minutes apart) while Shopify is unreachable; then failed."""
FLOW_MAX_BATCHES = 20
"""Batches per run of the sender (every 20 s): a backlog drains over several runs, never in one long job."""

NOTIFY_MATURED_WITHIN = timedelta(days=3)
"""Points whose pending period ended longer ago than this (an imported history, a scheduler that was
down for weeks) mature without an email: a customer is told about fresh points, not flooded with old ones."""
SMTP_TIMEOUT = 20
"""Seconds for each SMTP exchange: a dead server fails the attempt, which is retried later."""


# -- History import and reconciliation ------------------------------------------------------------
IMPORT_GC_THRESHOLD = 50_000
"""Allocations between two young-generation collections during an import (Python's default is 700)."""
IMPORT_STALE_SECONDS = 600
"""A run still marked running whose progress is older than this is taken to have crashed, and resumed."""
RECONCILE_OVERLAP = timedelta(minutes=10)
"""Each run looks this far behind the last watermark: Shopify's search index lags a little behind writes."""
BULK_POLL_SECONDS = 2.0
"""Between two looks at a running bulk operation."""
BULK_WAIT_SECONDS = 6 * 3600
"""A bulk operation still running after this long is given up on (Shopify's own limit is ten days)."""
READ_AHEAD_POLL_SECONDS = 1.0
"""How often the writer, waiting for a chunk, checks that the reader is still alive."""


# -- Shopify Admin API ----------------------------------------------------------------------------
BACKOFF_BASE_SECONDS = 0.5
"""First retry waits about this long; each further retry doubles it."""
BACKOFF_CAP_SECONDS = 30.0
"""No single backoff wait exceeds this (a job must not hang for minutes)."""
THROTTLED_ATTEMPTS_FACTOR = 10
"""THROTTLED answers allowed per call, as a multiple of max_attempts (each one waits for the bucket)."""
THROTTLE_ASSUMED_MAXIMUM = 2000.0
"""Bucket size assumed before Shopify has told us the shop's real one (standard plans)."""
THROTTLE_ASSUMED_RESTORE_RATE = 100.0
"""Points per second assumed before Shopify has told us the shop's real rate."""
THROTTLE_KEY_TTL_SECONDS = 86400
"""An idle shop's hash expires after a day; the assumed state is a fine restart."""
OAUTH_TIMEOUT = (2, 10)
"""Connect and read timeouts: well inside the 30 s refresh lock, so the lock never expires mid-request."""
UPLOAD_TIMEOUT = (5, 120)
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
"""A token expiring sooner than this is refreshed first, so a job never starts with one about to lapse."""
TOKEN_LOCK_TIMEOUT_SECONDS = 30
"""A refresh lock held longer than this (its holder died) is released by Redis on its own."""
TOKEN_LOCK_WAIT_SECONDS = 10
"""How long a worker waits for another's refresh before giving up with TokenRefreshBusy."""


# -- Storefront and admin -------------------------------------------------------------------------
STOREFRONT_SHOPIFY_TIMEOUT = (2, 5)
"""Connect and read timeouts (s) of the in-request Shopify call that makes a code: the shopper waits."""
STOREFRONT_SHOPIFY_ATTEMPTS = 2
"""Tries of that call before the page says the code is on its way (the same token finishes it later)."""
REDEEM_LOCK_SECONDS = 30
"""The most a customer's redemption holds their lock (it is released as soon as it ends): longer than the
in-request Shopify call can last (storefront.proxy: 2 tries of 2 + 5 s)."""
FORM_TOKEN_TTL_SECONDS = 24 * 3600
"""A page left open longer than this must be reloaded before it can redeem."""
STOREFRONT_HISTORY_LIMIT = 50
"""Most recent entries shown; the full history stays available to support (`loyalty customer`)."""
CHECKOUT_CODE_LIFETIME = timedelta(hours=3)
"""How long a code made at checkout (POST /extensions/checkout/redeem) works: far longer than paying takes
(3-D Secure, a bank's app, a slow mobile network), short enough that an abandoned checkout does not hold the
points for days; unused, it is given back (loyalty.domain.offers.checkout_give_back_due)."""
CHECKOUT_GIVE_BACK_GRACE = timedelta(hours=1)
"""After a checkout code's end, how long its points wait before they come back: the orders/paid webhook of
an order placed just before the end has reached the inbox and been applied by then (the code is used)."""
"""Most recent entries shown; the full history stays available to support (`loyalty customer`)."""
PROXY_MAX_AGE_SECONDS = 300
"""A signed URL is refused once its `timestamp` is older than this (or this far in the future)."""
INSTALL_STATE_LIFETIME = timedelta(minutes=10)
"""A `state` older than this is refused: the install has to start again."""
DEV_TOKEN_LIFETIME = timedelta(minutes=1)
"""As long as Shopify's own session tokens live: pages fetch a new one as they need."""
VOUCHER_GRACE = timedelta(minutes=2)
"""A voucher still `creating` this long after the redemption (with no recorded reason) is taken to be stuck:
a redemption waits on Shopify for seconds, not minutes."""
SUPPORT_PAGE_SIZE = 25
SEARCH_MAX_RESULTS = 1000
"""A customer search lists at most this many customers (40 pages): each page reads every match up to its end
from the indexes, so the deepest page stays cheap; support narrows a search rather than paging further."""
REPORT_MAX_DAYS = 731
"""The longest range one report covers (two years of days)."""

TIER_BATCH = 5000
"""Customers decided per transaction by the shop-wide tier recalculation and the period-end pass: two
aggregate queries per batch; larger batches hold the write lock (SQLite) longer."""
TIER_JOB_SECONDS = 10.0
"""A tier recalculation job stops after this long and queues its continuation (the cursor is stored)."""
SELECTION_CACHE_SECONDS = 300
"""How long the products of a free item's selection, read from Shopify for the loyalty page, are kept in
Redis: the page stays quick and Shopify is asked at most once per selection in that time; a product added
to the selection shows up that much later (the redemption itself always checks the variant with Shopify)."""
STORE_CREDIT_LEASE_SECONDS = 600
"""How long an attempt to credit store credit is given before another may take over. A second attempt
within it waits (the first may still be talking to Shopify, throttled waits included); after it, the first
attempt's outcome is unknown and the new one looks for its credit before crediting. Longer: a credit whose
attempt died waits longer to finish; shorter: a slow attempt could still land after the look (a double)."""
STORE_CREDIT_CHECK_BATCH = 200
"""Customers whose store credit the scheduled read-back checks per shop and run (oldest check first)."""
SIMULATION_MAX_MONTHS = 120
"""The longest history one programme simulation replays (ten years of months)."""
SIMULATION_LISTED_CUSTOMERS = 100
"""Customers whose standing would change, listed by name in a simulation report (all are counted)."""
BREAKAGE_DORMANT_MONTHS = 12
"""A customer with no ledger activity for this many months is taken as never using their points (the
liability report's breakage forecast)."""

STOREFRONT_NOTICE_TTL_SECONDS = 600
"""How long the outcome of a loyalty-page form (the code made, or why not) is shown on the page the form
redirects to (post/redirect/get): long enough to read and copy the code, short enough that an old link or
a shared URL no longer shows it. The code stays in the customer's vouchers list either way."""

# -- the audit log (admin Audit page) -------------------------------------------------------------
AUDIT_PAGE_SIZE = 50
"""Events per page of the audit log (keyset pages: the next one starts after the last event shown)."""
AUDIT_CSV_MAX_ROWS = 100_000
"""The most events one CSV export holds (newest first): bounded, streamed in chunks of AUDIT_CSV_CHUNK."""
AUDIT_CSV_CHUNK = 1000
"""Events read per query (and read transaction) while the CSV export streams."""
PROGRAMME_VERSIONS_PAGE_SIZE = 50
"""Programme versions listed per page, each summarised against the one before it."""
