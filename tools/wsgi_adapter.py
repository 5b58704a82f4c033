"""Send `requests` traffic straight into a WSGI app: end-to-end HTTP semantics, no sockets.

    session = wsgi_session(emulator.app, "http://shopify.test")
    AdminClient(shop, token, admin_url_template="http://shopify.test/{shop}", session=session)
"""
import io
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client


class WSGIAdapter(BaseAdapter):
    """A requests transport adapter that answers by calling a WSGI app in-process."""

    def __init__(self, app):
        """Serve every request mounted on this adapter with `app`."""
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Run the prepared request through the app and wrap its answer as a requests.Response."""
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        body = request.body.encode() if isinstance(request.body, str) else request.body
        # A client per call: werkzeug's test Client keeps cookie state and is not meant for threads.
        answer = Client(self.app).open(
            path=url.path,
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=request.method,
            headers=headers,
            data=body or b"",
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response._content = answer.get_data()
        response._content_consumed = True  # streamed reads (iter_content) replay the body
        response.raw = io.BytesIO(b"")
        response.encoding = answer.mimetype_params.get("charset")
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self):
        """Nothing to release: there is no connection."""


def wsgi_session(app, base_url="http://shopify.test"):
    """A requests Session whose calls under `base_url` go to `app` (others would fail: nothing else is mounted)."""
    session = requests.Session()
    session.mount(base_url, WSGIAdapter(app))
    return session
