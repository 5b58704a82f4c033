"""The loyalty domain: programme settings, points rules, the ledger and the services that change it."""
