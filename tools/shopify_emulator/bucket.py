"""Shopify's cost-based leaky bucket, one per shop, plus the figures a benchmark needs.

Shopify checks a query's *requested* cost against the points available, deducts
it, runs the query, then refunds the difference between requested and *actual*
cost. The bucket refills continuously at `restore_rate` points per second up to
`maximum`. A query that does not fit is refused whole: nothing is deducted.
"""
import threading

DEFAULT_MAXIMUM_AVAILABLE = 2000.0
"""Bucket size of a standard Shopify plan (Plus and Enterprise shops get more)."""

DEFAULT_RESTORE_RATE = 100.0
"""Points per second a standard plan's bucket refills."""

DEFAULT_MAX_QUERY_COST = 1000
"""Shopify refuses any single query whose requested cost exceeds this, whatever the bucket holds."""


class LeakyBucket:
    """The points one shop may still spend; thread-safe; time comes from `clock`."""

    def __init__(self, clock, *, maximum=DEFAULT_MAXIMUM_AVAILABLE, restore_rate=DEFAULT_RESTORE_RATE):
        """Start full, as a shop that has not called the API for a while is."""
        self._clock = clock
        self.maximum = float(maximum)
        self.restore_rate = float(restore_rate)
        self._available = self.maximum
        self._updated_at = clock()
        self._lock = threading.Lock()
        self.stats = Stats()

    def try_spend(self, requested):
        """Deduct `requested` points and return True, or return False (and deduct nothing) if they are missing."""
        with self._lock:
            self._refill()
            if requested > self._available:
                self.stats.record_throttled(self._clock())
                return False
            self._available -= requested
            return True

    def settle(self, requested, actual):
        """After a served query: refund what it was charged beyond its actual cost, and count it."""
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(0, requested - actual))
            self.stats.record_served(self._clock(), requested, actual)

    def report(self):
        """The traffic figures so far (see Stats.as_dict)."""
        with self._lock:
            return self.stats.as_dict(self.maximum, self.restore_rate)

    def status(self):
        """The `throttleStatus` object Shopify reports, as of now."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum,
                # Shopify reports whole points; rounding down never promises points that are not there.
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate,
            }

    def _refill(self):
        """Add the points restored since the last look; the caller holds the lock."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated_at)  # a fake clock moved back must not drain the bucket
        self._available = min(self.maximum, self._available + elapsed * self.restore_rate)
        self._updated_at = max(now, self._updated_at)


class Stats:
    """Counters of one shop's traffic; mutated only under the owning bucket's lock."""

    def __init__(self):
        """Nothing seen yet."""
        self.served = 0
        self.throttled = 0
        self.requested_cost = 0
        self.actual_cost = 0
        self.first_at = None
        self.last_at = None

    def record_served(self, now, requested, actual):
        """Count one query that ran."""
        self.served += 1
        self.requested_cost += requested
        self.actual_cost += actual
        self._seen(now)

    def record_throttled(self, now):
        """Count one query refused for lack of points."""
        self.throttled += 1
        self._seen(now)

    def _seen(self, now):
        """Widen the observed time window to include `now`."""
        self.first_at = now if self.first_at is None else self.first_at
        self.last_at = now

    def as_dict(self, maximum, restore_rate):
        """Plain figures, plus utilisation: points spent over the most the bucket could have given."""
        window = (self.last_at - self.first_at) if self.first_at is not None else 0.0
        # A full bucket at the start plus everything restored during the window is the ceiling.
        capacity = maximum + restore_rate * window
        return {
            "served": self.served,
            "throttled": self.throttled,
            "requested_cost": self.requested_cost,
            "actual_cost": self.actual_cost,
            "window_seconds": window,
            "utilisation": self.actual_cost / capacity if capacity else 0.0,
        }
