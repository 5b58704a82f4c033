"""The merchant-facing side of the app: install and auth (auth.py), and the admin embedded in Shopify's
admin: HTML pages (pages.py) that call a JSON API (api.py, described by openapi.json) authenticated by App
Bridge session tokens (session.py)."""
