"""The admin JSON API of the customer page's support desk."""
from __future__ import annotations

from admin.session import api_blueprint

bp = api_blueprint("admin_support", __name__)
