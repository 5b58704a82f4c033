"""The admin JSON API of products and collections to pick."""
from __future__ import annotations

from admin.session import api_blueprint

bp = api_blueprint("admin_resources", __name__)
