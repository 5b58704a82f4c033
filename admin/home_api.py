"""The admin JSON API of the home page: the programme at a glance."""
from __future__ import annotations

from admin.session import api_blueprint

bp = api_blueprint("admin_home", __name__)
