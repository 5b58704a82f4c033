"""Benchmarks (`make bench`, `python -m tools.bench [--only NAME]`): each figure measured through the production
set-up (gunicorn, `rq worker`, embedded Redis, the Admin API emulator as a process) and, where the issue
sets one, judged against its target in the same run. Figures are appended to tools/bench/results.md.

Each benchmark is a module with `run(options) -> list[Figure]`, registered below by name.
"""

BENCHMARKS = {
    "ingest": "tools.bench.ingest",              # signed webhooks through gunicorn vs a bare endpoint; p99
    "pipeline": "tools.bench.pipeline",          # recorded webhook -> ledger with rq workers; webhook-to-points p99
    "scale": "tools.bench.scale",                # 1, 2, 4 rq workers on PostgreSQL: speed-up, no double credit
    "shopify": "tools.bench.shopify_budget",     # 10,000 metafield syncs against the emulator's leaky bucket
    "notifications": "tools.bench.notifications",  # maturing with customer emails; sending (capture, SMTP)
    "import": "tools.bench.history_import",      # bulk-operation JSONL history into the ledger (SQLite, PostgreSQL)
    "writeback": "tools.bench.writeback",        # 1,000,000 balances written back: calls vs a bulk mutation
    "simulate": "tools.bench.simulate",          # 1,000,000 recorded orders replayed under a draft programme
    "storefront": "tools.bench.storefront",      # loyalty page and extension API p99, 10,000,000 entries
    "support": "tools.bench.admin_support",     # admin customer search and customer page p99, same shop
    "admin_home": "tools.bench.admin_home",      # home page and liability report API p99, 10,000,000 entries
}
"""Name -> module. Run order is this order; `--only` picks some."""
