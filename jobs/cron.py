"""The scheduler's timetable, read by `rq cron jobs/cron.py` (the Procfile's `scheduler` process)."""
from rq import cron

from jobs.checkout_codes import give_back_checkout_codes
from jobs.collections import refresh_all_collections
from jobs.flow_triggers import send_flow_triggers
from jobs.notify import send_notifications
from jobs.reconcile import reconcile_all
from jobs.rollup import roll_up_ledgers
from jobs.store_credit import check_store_credit
from jobs.scheduled import (expire_points, expire_vouchers, give_birthday_perks, mature_points, purge_inbox, sweep,
                            warn_expiring_points)
from jobs.sync import sync_balances
from jobs.theme import write_all_programme_summaries
from jobs.tiers import give_tier_gifts, tiers_at_period_end
from loyalty.services.context import QUEUE_NAME

cron.register(sweep, queue_name=QUEUE_NAME, interval=10, result_ttl=0)
cron.register(mature_points, queue_name=QUEUE_NAME, interval=600, result_ttl=3600)
cron.register(expire_points, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
cron.register(sync_balances, queue_name=QUEUE_NAME, kwargs={"slice_seconds": 1.0}, interval=30, result_ttl=0)
cron.register(expire_vouchers, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
# codes made at checkout and unused: deactivated and their points given back (jobs/checkout_codes.py)
cron.register(give_back_checkout_codes, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
cron.register(purge_inbox, queue_name=QUEUE_NAME, interval=86400, result_ttl=3600)
cron.register(send_notifications, queue_name=QUEUE_NAME, interval=20, result_ttl=0)
# daily jobs, run hourly: idempotent, so a day's work is done within the hour it starts
cron.register(give_birthday_perks, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
cron.register(tiers_at_period_end, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
# a tier's free shipping codes: within ten minutes of entering it (or of a new month / year)
cron.register(give_tier_gifts, queue_name=QUEUE_NAME, interval=600, result_ttl=3600)
cron.register(warn_expiring_points, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
cron.register(refresh_all_collections, queue_name=QUEUE_NAME, cron="47 2 * * *", result_ttl=86400)
# store credit spent online or at the point of sale is read back hourly (liability, merchant's report)
cron.register(check_store_credit, queue_name=QUEUE_NAME, interval=3600, result_ttl=3600)
cron.register(reconcile_all, queue_name=QUEUE_NAME, cron="17 3 * * *", result_ttl=86400, job_timeout=6 * 3600)
# the theme block's programme summary, written again daily (it is also written when the programme changes)
cron.register(write_all_programme_summaries, queue_name=QUEUE_NAME, cron="53 3 * * *", result_ttl=86400)
cron.register(send_flow_triggers, queue_name=QUEUE_NAME, interval=20, result_ttl=0)
# the ledger's totals for the home page and the liability report (loyalty/services/ledger_rollup.py)
cron.register(roll_up_ledgers, queue_name=QUEUE_NAME, interval=60, result_ttl=0, job_timeout=3600)
