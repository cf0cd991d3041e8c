"""Schemathesis hooks for fasttrack: every error answer must be an RFC 9457 problem document."""

import json

import schemathesis


@schemathesis.check
def problem_documents(ctx, response, case):
    """A 4xx or 5xx is application/problem+json with type, title and its own status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered as '{content_type}', not application/problem+json"
        )
    try:
        body = json.loads(response.content or b"null")
    except ValueError as e:
        raise AssertionError(f"the problem document is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise AssertionError("the problem document is not a JSON object")
    for key in ("type", "title", "status"):
        if key not in body:
            raise AssertionError(f"the problem document has no '{key}'")
    if body["status"] != response.status_code:
        raise AssertionError(
            f"the problem says status {body['status']} but the answer is {response.status_code}"
        )
    return None
