"""schemathesis hooks for `cargo xtask fuzz` (and the quick pass in `cargo xtask test`).

Signs up one fresh account on the server under test and authenticates every generated
request with its real bearer token, so the fuzzer reaches the handlers behind
authentication. `TODO_FUZZ_BASE_URL` names the server (xtask sets it).

Cursors are opaque: only the server's own are valid (a made-up one is a 422, by design), so
generated requests never carry one; the `next_cursor` links of the stateful phase pass the
server's real cursors.
"""

import json
import os
import secrets
import urllib.error
import urllib.request

import schemathesis

BASE_URL = os.environ["TODO_FUZZ_BASE_URL"].rstrip("/")
EMAIL = f"fuzz-{secrets.token_hex(8)}@example.com"
# Never the schema's example password, so a generated DELETE /users/me cannot guess it.
PASSWORD = secrets.token_urlsafe(24)


def _post(path, body):
    request = urllib.request.Request(
        BASE_URL + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


_SESSION = _post("/users", {"email": EMAIL, "password": PASSWORD, "name": "Fuzz"})


@schemathesis.auth()
class Bearer:
    """The signed-up account's access token; when it is refreshed, a new one from its
    refresh token, else (a generated log-out revoked that session) from logging in."""

    def get(self, case, ctx):
        global _SESSION
        if getattr(self, "issued", False):
            try:
                _SESSION = _post("/sessions/refresh", {"refresh_token": _SESSION["refresh_token"]})
            except urllib.error.HTTPError:
                try:
                    _SESSION = _post("/sessions", {"email": EMAIL, "password": PASSWORD})
                except urllib.error.HTTPError:
                    # The fuzzer's own wrong passwords can have locked this email's log-in
                    # (429): carry on as a new account.
                    _SESSION = _post("/users", {"email": f"fuzz-{secrets.token_hex(8)}@example.com", "password": PASSWORD})
        self.issued = True
        return _SESSION["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def map_case(ctx, case):
    if case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    return case


# 422s that depend on what is stored, not on the request's shape: no schema can say which
# password is the account's, which lists the caller may add tasks to, whether the task being
# patched already has a due date, or which list is the Inbox. Only these exact field errors are
# excused, only on the operations named, and only as the positive-data check's failure: every
# other check still applies to these responses.
STATEFUL_FIELD_ERRORS = {
    ("DELETE", "password", "does not match the account's password"),
    ("PATCH", "current_password", "does not match the account's password"),
    ("PATCH", "list_id", "is not a list you can add tasks to"),
    ("PATCH", "recurrence", "a recurring task needs a due date"),
    ("PATCH", "name", "the Inbox cannot be renamed"),
}


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    # ST202: "schema-valid request rejected" (positive_data_acceptance).
    if response is None or response.status_code != 422 or getattr(failure, "code", None) != "ST202":
        return True
    try:
        errors = {(case.method.upper(), e["field"], e["message"]) for e in response.json().get("errors", [])}
    except ValueError:
        return True
    return not (errors and errors <= STATEFUL_FIELD_ERRORS)
