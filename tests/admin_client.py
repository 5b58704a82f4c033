"""The admin API as a merchant's browser calls it: session tokens like App Bridge's, and every answer
checked against admin/openapi.json (status documented, body matching its schema)."""
from __future__ import annotations

import re
import time
import uuid

import jwt
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from admin.openapi_doc import document

OPENAPI = document()


def session_token(shop: str, *, secret: str, api_key: str = "test-key", sub: str = "42", lifetime: int = 60,
                  **overrides) -> str:
    """A session token as Shopify issues it for `shop`; overrides replace claims (None removes one)."""
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": api_key, "sub": sub,
              "exp": now + lifetime, "nbf": now - 1, "iat": now - 1, "jti": str(uuid.uuid4()), "sid": "s1"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def operation_for(method: str, path: str) -> tuple[str, dict]:
    """The OpenAPI path template and operation that document `method path`, or AssertionError."""
    for template, item in OPENAPI["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not in admin/openapi.json")


def check_against_openapi(method: str, path: str, response) -> None:
    """The status is documented for the operation and the JSON body matches its schema."""
    template, operation = operation_for(method, path.split("?")[0])
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {template} answered {response.status_code}, not documented"
    if "$ref" in documented:  # a shared response: #/components/responses/Name
        documented = OPENAPI["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    content = documented.get("content", {})
    if "application/json" in content:
        schema = {**content["application/json"]["schema"], "components": OPENAPI["components"]}
        errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(response.get_json()),
                        key=str)
        assert not errors, f"{method} {path}: {errors[0].message} at {list(errors[0].absolute_path)}"
    else:
        assert response.mimetype in content, f"{method} {template} answered {response.mimetype}"


class AdminApi:
    """`admin.get("/customers")`: calls /admin/api with a fresh token for the shop, checks the answer."""

    def __init__(self, client, shop: str, secret: str, sub: str = "42"):
        self.client, self.shop, self.secret, self.sub = client, shop, secret, sub

    def call(self, method: str, path: str, json_body=None, token: str | None = None):
        token = token or session_token(self.shop, secret=self.secret, sub=self.sub)
        full = "/admin/api" + path
        response = self.client.open(full, method=method, json=json_body,
                                    headers={"Authorization": f"Bearer {token}"})
        check_against_openapi(method, full, response)
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.call("POST", path, json_body if json_body is not None else {}, **kw)

    def put(self, path, json_body=None, **kw):
        return self.call("PUT", path, json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.call("PATCH", path, json_body, **kw)


@pytest.fixture
def admin(client, shop):
    """The admin API of store A, as a staff member (`sub` 42) of store A sees it."""
    from tests.conftest import SECRET

    return AdminApi(client, shop.domain, SECRET)
