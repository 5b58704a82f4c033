"""Receiving Shopify webhooks: verify, record durably, wake a worker, answer. Nothing else."""
