"""The admin JSON API of the audit log."""
from __future__ import annotations

from admin.session import api_blueprint

bp = api_blueprint("admin_audit", __name__)
