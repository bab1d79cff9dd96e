"""Checking API responses against the OpenAPI document the API publishes."""
import re

from jsonschema import Draft202012Validator

from governance.api.openapi import document


def _operation(path: str, method: str) -> dict | None:
    paths = document()["paths"]
    for template, item in sorted(paths.items(), key=lambda kv: "{" in kv[0]):
        pattern = "^" + re.sub(r"\{\w+\}", r"[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    return None


def assert_documented(response, path: str, method: str = "GET") -> None:
    """The response's status is documented for the route and its body fits the schema."""
    path = path.split("?")[0].removeprefix("/api/v1")
    operation = _operation(path, method)
    status = str(response.status_code)
    if operation is None:
        assert status in ("404", "405"), f"{method} {path} is not in openapi.json"
        return
    assert status in operation["responses"], f"{method} {path} answers undocumented {status}"
    content = operation["responses"][status].get("content")
    if not content:
        return
    schema = {**content["application/json"]["schema"],
              "components": document()["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()),
                    key=lambda e: e.path)
    assert not errors, f"{method} {path} {status}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5])
