"""A per-shop GraphQL cost budget shared by every worker process through Redis.

Shopify meters the Admin API with a leaky bucket per shop and app: each query
costs points, the bucket refills at `restoreRate` points per second up to
`maximumAvailable`. Workers reserve the cost of their next query here before
sending it, so several processes working for the same shop queue up instead of
all being throttled at once.
"""
import time
from loyalty.defaults import (THROTTLE_ASSUMED_MAXIMUM as ASSUMED_MAXIMUM,
                              THROTTLE_ASSUMED_RESTORE_RATE as ASSUMED_RESTORE_RATE,
                              THROTTLE_KEY_TTL_SECONDS as KEY_TTL_SECONDS)

KEY_PREFIX = "loyalty:gqlbudget:"
"""One Redis hash per shop: `loyalty:gqlbudget:{shop}`."""


# Reserve the cost and answer how long the caller must wait before spending it.
# Doing the refill, the reservation and the write in one script makes it atomic:
# two processes can never both spend the same points. The budget may go below
# zero; that debt is exactly the queue of callers waiting for the bucket to refill.
# Numbers travel as strings because Redis truncates Lua numbers to integers.
_RESERVE = """
local state = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'restore_rate', 'observed_at')
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local maximum = tonumber(state[2]) or tonumber(ARGV[3])
local rate = tonumber(state[3]) or tonumber(ARGV[4])
if rate <= 0 then rate = tonumber(ARGV[4]) end
local available = maximum
local observed_at = now
if state[1] and state[4] then
  -- never move time backwards: another worker's clock may run slightly ahead
  observed_at = math.max(now, tonumber(state[4]))
  local elapsed = math.max(0, now - tonumber(state[4]))
  available = math.min(maximum, tonumber(state[1]) + rate * elapsed)
end
-- a query dearer than the whole bucket could never fit; Shopify rejects those anyway
available = available - math.min(cost, maximum)
redis.call('HSET', KEYS[1], 'available', tostring(available), 'maximum', tostring(maximum),
           'restore_rate', tostring(rate), 'observed_at', tostring(observed_at))
redis.call('EXPIRE', KEYS[1], ARGV[5])
if available >= 0 then return '0' end
return tostring(-available / rate)
"""


class RedisThrottle:
    """Reserve query cost before each request; record what Shopify reports after it."""

    def __init__(self, redis, *, sleep=time.sleep, clock=time.time, default_cost=10):
        """`sleep` and `clock` are injected so tests control time."""
        self._redis = redis
        self._sleep = sleep
        self._clock = clock
        self._default_cost = default_cost
        self._reserve = redis.register_script(_RESERVE)

    def acquire(self, shop, cost=None):
        """Reserve `cost` points (default when unknown) for `shop`, sleeping until they exist."""
        cost = self._default_cost if cost is None else cost
        wait = float(
            self._reserve(
                keys=[KEY_PREFIX + shop],
                args=[repr(float(self._clock())), cost, ASSUMED_MAXIMUM, ASSUMED_RESTORE_RATE, KEY_TTL_SECONDS],
            )
        )
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe(self, shop, throttle_status, actual_cost=None):
        """Replace our estimate with Shopify's own `throttleStatus` for `shop`."""
        key = KEY_PREFIX + shop
        fields = {
            "available": throttle_status["currentlyAvailable"],
            "maximum": throttle_status["maximumAvailable"],
            "restore_rate": throttle_status["restoreRate"],
            "observed_at": repr(float(self._clock())),
        }
        if actual_cost is not None:
            fields["last_actual_cost"] = actual_cost
        with self._redis.pipeline() as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, KEY_TTL_SECONDS)
            pipe.execute()

    def state(self, shop):
        """The stored budget for `shop` as floats (empty when nothing is known); for tests and ops."""
        raw = self._redis.hgetall(KEY_PREFIX + shop)
        return {k.decode() if isinstance(k, bytes) else k: float(v) for k, v in raw.items()}
