"""Adapters to the outside world (Shopify); no loyalty rules live here."""
