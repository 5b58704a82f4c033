"""RQ jobs: turn recorded webhooks into commands, run the scheduled services, sweep what was missed."""
