"""The OpenAPI 3.1 document of the API, kept beside the routes it describes."""
from __future__ import annotations

from flask import jsonify

from . import bp

ERROR = {"$ref": "#/components/schemas/Error"}


def _list_of(ref: str) -> dict:
    return {"type": "object", "required": ["items", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 500}}}


def _response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    names = {400: "Malformed input", 401: "Not authenticated", 403: "Not allowed",
             404: "Not found", 409: "State conflict", 422: "Refused by the rules"}
    return {str(s): _response(ERROR, names[s]) for s in statuses}


DECIDER_REFUSALS = (
    "A caller without the approver role is refused with 403. An approver refused by P4 "
    "(SELF_DECISION: their own request or access; NOT_NAMED_APPROVER: not named in the "
    "request's policy) is refused with 422. Both answers carry the violations, and the "
    "refusal is written to the audit trail.")

PAGING = [
    {"name": "page", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
    {"name": "per_page", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
]

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "field": {"type": "string"}}},
        "violations": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}}}},
    "Violation": {"type": "object", "required": ["code", "principle", "message"],
                  "properties": {"code": {"type": "string"},
                                 "principle": {"type": "string", "pattern": "^P[1-7]$"},
                                 "message": {"type": "string"},
                                 "contact": {"type": "object"}}},
    "Employee": {"type": "object",
                 "required": ["username", "name", "centre", "roles", "status"],
                 "properties": {
                     "username": {"type": "string"}, "name": {"type": "string"},
                     "email": {"type": "string"}, "centre": {"type": "string"},
                     "title": {"type": "string"},
                     "roles": {"type": "array", "items": {"type": "string", "enum": [
                         "requester", "approver", "user_admin", "dpo", "admin"]}},
                     "status": {"type": "string", "enum": ["active", "left"]},
                     "left_on": {"type": ["string", "null"], "format": "date",
                                 "description": "the day the employee left"}}},
    "ChangedEmployee": {"allOf": [{"$ref": "#/components/schemas/Employee"}, {
        "type": "object", "properties": {"still_named": {
            "type": "array", "description": "for a leaver: the duties the register still "
            "names them for (named approver in a policy, system owner, user administrator, "
            "an area's contact person, a centre's manager); until someone else is named, "
            "that work is not done",
            "items": {"type": "object", "required": ["duty", "where"], "properties": {
                "duty": {"type": "string", "enum": ["approver", "owner", "user_admin",
                                                    "contact", "manager"]},
                "where": {"type": "string",
                          "description": "policy id, system code, or centre code (manager)"},
                "area": {"type": "string", "description": "the area's key (contact)"},
                "uncovered": {"type": "boolean",
                              "description": "the system has no other active user "
                                             "administrator"}}}}}}]},
    "Contact": {"type": "object", "required": ["username", "name"], "properties": {
        "username": {"type": "string"}, "name": {"type": "string"},
        "email": {"type": "string"}}},
    "NonGrantableArea": {"type": "object", "required": ["key", "name", "contact"],
                         "properties": {
                             "key": {"type": "string"}, "name": {"type": "string"},
                             "name_en": {"type": "string"},
                             "scopes": {"type": "array", "items": {"type": "string"}},
                             "categories": {"type": "array", "items": {"type": "string"}},
                             "contact": {"$ref": "#/components/schemas/Contact"}}},
    "System": {"type": "object",
               "required": ["code", "name", "owner", "user_admins", "access_levels", "scopes",
                            "data_categories", "non_grantable_areas"],
               "properties": {
                   "code": {"type": "string"}, "name": {"type": "string"},
                   "owner": {"type": "string", "description": "the external owner"},
                   "system_owner": {"type": "string",
                                    "description": "username of the municipal system owner"},
                   "user_admins": {"type": "array", "items": {"type": "string"}},
                   "access_levels": {"type": "array", "items": {
                       "type": "string", "enum": ["read", "write"]}},
                   "scopes": {"type": "array", "items": {
                       "type": "string", "enum": ["summary", "detail"]}},
                   "data_categories": {"type": "array", "items": {"type": "string"}},
                   "non_grantable_areas": {"type": "array", "items": {
                       "$ref": "#/components/schemas/NonGrantableArea"}}}},
}

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
STR_LIST = {"type": "array", "items": STR}

SCHEMAS.update({
    "Check": {"type": "object", "required": ["code", "principle", "passed", "message"],
              "properties": {"code": STR, "principle": {"type": "string",
                                                        "pattern": "^P[1-7]$"},
                             "passed": {"type": "boolean"}, "message": STR,
                             "contact": {"type": "object"}}},
    "RequestInput": {
        "type": "object", "required": ["system", "frequency", "data_categories"],
        "additionalProperties": False,
        "properties": {
            "grantee": {"type": "string", "description": "username; the caller by default"},
            "system": STR,
            "access_level": {"type": "string", "enum": ["read", "write"], "default": "read"},
            "scope": {"type": "string", "enum": ["summary", "detail"], "default": "summary"},
            "purpose": {"type": "string", "description": "the purpose policy's id; "
                                                          "by default the only one in force"},
            "frequency": {"type": "string", "enum": ["daily", "weekly", "monthly", "quarterly",
                                                     "yearly", "once"]},
            "tasks": {"type": "string", "description": "the concrete work tasks that need the "
                                                       "access (principle 1); too short is a "
                                                       "NEED_UNDOCUMENTED refusal"},
            "data_categories": {"type": "array", "items": STR, "minItems": 1},
            "write_justification": STR}},
    "Decision": {"type": "object", "required": ["approver", "decision", "decided_at"],
                 "properties": {"approver": STR,
                                "decision": {"type": "string", "enum": ["approve", "reject"]},
                                "comment": STR, "decided_at": DATE_TIME}},
    "Request": {
        "type": "object",
        "required": ["id", "status", "requester", "grantee", "system", "access_level", "scope",
                     "purpose", "tasks", "frequency", "data_categories", "approvals_needed",
                     "decisions"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected",
                                                  "withdrawn"]},
            "requester": STR, "grantee": STR, "system": STR, "access_level": STR,
            "scope": STR, "purpose": STR, "tasks": STR, "frequency": STR,
            "data_categories": STR_LIST, "write_justification": STR,
            "approvals_needed": {"type": "integer"}, "created_at": DATE_TIME,
            "decided_at": DATE_TIME, "grant_id": {"type": ["integer", "null"]},
            "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
            "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}}}},
    "CreatedRequest": {"allOf": [{"$ref": "#/components/schemas/Request"}, {
        "type": "object", "required": ["eligible_approvers", "checks"],
        "properties": {"eligible_approvers": STR_LIST}}]},
    "CheckResult": {"type": "object",
                    "required": ["passed", "eligible_approvers", "approvals_needed", "checks"],
                    "properties": {"passed": {"type": "boolean"},
                                   "eligible_approvers": STR_LIST,
                                   "approvals_needed": {"type": "integer"},
                                   "checks": {"type": "array", "items": {
                                       "$ref": "#/components/schemas/Check"}}}},
    "Grant": {
        "type": "object",
        "required": ["id", "request_id", "grantee", "system", "access_level", "scope",
                     "status", "review_due"],
        "properties": {
            "id": {"type": "integer"}, "request_id": {"type": ["integer", "null"]},
            "grantee": STR, "system": STR, "access_level": STR, "scope": STR,
            "purpose": STR, "tasks": STR, "frequency": STR, "data_categories": STR_LIST,
            "status": {"type": "string", "enum": ["approved", "active", "revoked", "expired"]},
            "approved_at": DATE_TIME, "fulfilled_at": DATE_TIME, "activated_at": DATE_TIME,
            "review_due": {"type": ["string", "null"], "format": "date"},
            "ended_at": DATE_TIME, "end_reason": NSTR, "removed_at": DATE_TIME,
            "approved_by": STR_LIST,
            "awaits_acknowledgement": {
                "type": "boolean",
                "description": "Created in the system; becomes active once the grantee "
                               "acknowledges the lookup principles (P3)"}}},
    "Tasks": {"type": "object", "required": ["to_create", "to_remove"], "properties": {
        "to_create": {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}},
        "to_remove": {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}}}},
    "Acknowledgement": {"type": "object",
                        "required": ["employee", "acknowledged_at", "principles_sha256"],
                        "properties": {"employee": STR, "acknowledged_at": DATE_TIME,
                                       "principles_sha256": STR}},
    "EmployeeInput": {"type": "object", "additionalProperties": False,
                      "required": ["username", "name", "email", "centre"], "properties": {
                          "username": STR, "name": STR, "email": STR, "centre": STR,
                          "title": STR, "roles": STR_LIST,
                          "status": {"type": "string", "enum": ["active"]}}},
    "EmployeeChange": {"type": "object", "additionalProperties": False, "properties": {
        "name": STR, "email": STR, "centre": STR, "title": STR, "roles": STR_LIST,
        "status": {"type": "string", "enum": ["active", "left"]},
        "left_on": {"type": "string", "format": "date",
                    "description": "with status 'left': the day the person left, if before "
                                   "today (default today); their access ends now"}}},
    "AuditEntry": {"type": "object",
                   "required": ["id", "created_at", "actor", "action", "object_type",
                                "object_id", "summary", "details", "hash", "prev_hash"],
                   "properties": {"id": {"type": "integer"}, "created_at": DATE_TIME,
                                  "actor": STR, "action": STR, "object_type": STR,
                                  "object_id": STR, "summary": STR, "details": {},
                                  "client_address": STR, "hash": STR, "prev_hash": STR}},
    "Review": {"type": "object",
               "required": ["id", "grant_id", "reviewer", "decision", "comment", "reviewed_on"],
               "properties": {"id": {"type": "integer"}, "grant_id": {"type": "integer"},
                              "reviewer": STR,
                              "decision": {"type": "string", "enum": ["keep", "revoke"]},
                              "comment": STR,
                              "reviewed_on": {"type": "string", "format": "date"},
                              "due_before": {"type": ["string", "null"], "format": "date"},
                              "due_after": {"type": ["string", "null"], "format": "date"}}},
    "OverdueGrant": {"allOf": [{"$ref": "#/components/schemas/Grant"}, {
        "type": "object", "required": ["due_on_day", "days_overdue", "finding"],
        "properties": {"due_on_day": {
                           "type": "string", "format": "date",
                           "description": "the review due date in force on as_of; on a past "
                                          "day the list is the register as it stood at its "
                                          "end, while status and review_due are today's"},
                       "days_overdue": {"type": "integer"},
                       "finding": {"$ref": "#/components/schemas/Check"}}}]},
    "ChainReport": {"type": "object", "required": ["ok", "entries"], "properties": {
        "ok": {"type": "boolean"}, "entries": {"type": "integer"},
        "broken_entry": {"type": ["integer", "null"]}, "reason": STR,
        "last_hash": {"type": ["string", "null"],
                      "description": "the hash of the last entry verified"},
        "register": {"type": "object", "required": ["ok", "grants", "differences"],
                     "description": "each grant as its audit entries last recorded it "
                                    "(flask --app wsgi audit reconcile)",
                     "properties": {"ok": {"type": "boolean"},
                                    "grants": {"type": "integer"},
                                    "differences": STR_LIST}}}},
})


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(name: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _id(name: str) -> list:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}]


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "schema": schema}


PATHS = {
    "/me": {"get": {"summary": "The caller", "operationId": "getMe",
                    "responses": {"200": _response({"$ref": "#/components/schemas/Employee"}),
                                  **_errors(401)}}},
    "/systems": {"get": {"summary": "Systems in the register", "operationId": "listSystems",
                         "parameters": PAGING,
                         "responses": {"200": _response(_list_of("System")),
                                       **_errors(400, 401)}}},
    "/systems/{code}": {"get": {
        "summary": "One system", "operationId": "getSystem",
        "parameters": [{"name": "code", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _response({"$ref": "#/components/schemas/System"}),
                      **_errors(401, 404)}}},
    "/employees": {"get": {
        "summary": "Employees (approvers, user administrators, DPO and admin)",
        "operationId": "listEmployees",
        "parameters": PAGING + [{"name": "status", "in": "query", "schema": {
            "type": "string", "enum": ["active", "left"]}},
            _query("centre", {"type": "string", "description": "a centre's code"}),
            _query("q", {"type": "string", "maxLength": 100,
                         "description": "text in the username, name or title"})],
        "responses": {"200": _response(_list_of("Employee")), **_errors(400, 401, 403)}},
        "post": {"summary": "HR feed: create an employee (admin)",
                 "operationId": "createEmployee", "requestBody": _json_body("EmployeeInput"),
                 "responses": {"201": _response(_ref("Employee"), "Created"),
                               **_errors(400, 401, 403, 409)}}},
    "/employees/{username}": {"get": {
        "summary": "One employee (themselves, or for those who may list employees)",
        "operationId": "getEmployee",
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _response({"$ref": "#/components/schemas/Employee"}),
                      **_errors(401, 403, 404)}},
        "patch": {"summary": "HR feed: change an employee; status 'left' revokes all access",
                  "description": "A leaver's record stays as it was when they left: the "
                                 "same values again change nothing (200), another value is "
                                 "a 409 naming the field.",
                  "operationId": "updateEmployee",
                  "parameters": [{"name": "username", "in": "path", "required": True,
                                  "schema": {"type": "string"}}],
                  "requestBody": _json_body("EmployeeChange"),
                  "responses": {"200": _response(_ref("ChangedEmployee")),
                                **_errors(400, 401, 403, 404, 409)}}},
    "/requests": {
        "get": {"summary": "Requests the caller may see", "operationId": "listRequests",
                "parameters": PAGING + [_query("status", {"type": "string", "enum": [
                    "pending", "approved", "rejected", "withdrawn"]})],
                "responses": {"200": _response(_list_of("Request")), **_errors(400, 401)}},
        "post": {"summary": "Request access (refused with every violation, nothing stored)",
                 "operationId": "createRequest", "requestBody": _json_body("RequestInput"),
                 "responses": {"201": _response(_ref("CreatedRequest"), "Filed"),
                               **_errors(400, 401, 403, 422)}}},
    "/requests/check": {"post": {
        "summary": "The rule results for a proposed request, without filing it",
        "operationId": "checkRequest", "requestBody": _json_body("RequestInput"),
        "responses": {"200": _response(_ref("CheckResult")), **_errors(400, 401, 403)}}},
    "/requests/{request_id}": {"get": {
        "summary": "One request (with the current rule results while pending)",
        "operationId": "getRequest", "parameters": _id("request_id"),
        "responses": {"200": _response(_ref("Request")), **_errors(401, 403, 404)}}},
    "/requests/{request_id}/decision": {"post": {
        "summary": "A named approver approves or rejects (comment required on reject)",
        "description": DECIDER_REFUSALS,
        "operationId": "decideRequest", "parameters": _id("request_id"),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["approve", "reject"]},
                "comment": {"type": "string",
                            "description": "optional on approve; a rejection needs one (400 "
                                           "with field comment without)"}},
            "if": {"properties": {"decision": {"const": "reject"}}},
            "then": {"required": ["decision", "comment"],
                     "properties": {"comment": {"type": "string", "minLength": 1,
                                                "pattern": "\\S"}}}}}}},
        "responses": {"200": _response(_ref("Request")),
                      **_errors(400, 401, 403, 404, 409, 422)}}},
    "/requests/{request_id}/withdraw": {"post": {
        "summary": "The requester or grantee withdraws a pending request",
        "operationId": "withdrawRequest", "parameters": _id("request_id"),
        "responses": {"200": _response(_ref("Request")), **_errors(401, 403, 404, 409)}}},
    "/grants": {"get": {
        "summary": "Grants the caller may see; as_of gives who held access on that date",
        "description": "With as_of, the grants whose access existed in the system at some "
                       "time on that date: from the user administrator's record that it "
                       "was created until the record that it was removed; their status and "
                       "review_due are today's (an access active then may be revoked now). "
                       "Only approvers, "
                       "the DPO and admins ask who held access (as_of); others get 403, as "
                       "on the point-in-time page.",
        "operationId": "listGrants",
        "parameters": PAGING + [_query("system", STR), _query("grantee", STR),
                                _query("status", {"type": "string", "enum": [
                                    "approved", "active", "revoked", "expired"]}),
                                _query("as_of", {"type": "string", "format": "date"})],
        "responses": {"200": _response(_list_of("Grant")), **_errors(400, 401, 403)}}},
    "/grants/{grant_id}": {"get": {
        "summary": "One grant, with what it fails today if it is active (findings: a lapsed "
                   "acknowledgement NOT_ACKNOWLEDGED, an overdue review REVIEW_OVERDUE, a rule "
                   "the policy in force no longer allows)",
        "operationId": "getGrant",
        "parameters": _id("grant_id") + [_query("as_of", {"type": "string", "format": "date"})],
        "responses": {"200": _response({"allOf": [_ref("Grant"), {
            "type": "object", "required": ["findings"], "properties": {
                "findings": {"type": "array", "items": _ref("Violation")}}}]}),
            **_errors(400, 401, 403, 404)}}},
    "/grants/{grant_id}/fulfil": {"post": {
        "summary": "The user administrator records the access created (or, if ended, removed)",
        "description": "An access approved under an earlier version of its policy, which the "
                       "version in force no longer allows (P4, P6, P7), is not created: 422 "
                       "with the violations; an approver revokes it.",
        "operationId": "fulfilGrant", "parameters": _id("grant_id"),
        "responses": {"200": _response(_ref("Grant")),
                      **_errors(400, 401, 403, 404, 409, 422)}}},
    "/grants/{grant_id}/revoke": {"post": {
        "summary": "An approver or admin revokes a grant with a reason",
        "operationId": "revokeGrant", "parameters": _id("grant_id"),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["reason"], "properties": {"reason": STR}}}}},
        "responses": {"200": _response(_ref("Grant")), **_errors(400, 401, 403, 404, 409)}}},
    "/grants/{grant_id}/review": {"post": {
        "summary": "A named approver re-assesses an active grant: keep (the due date moves) "
                   "or revoke", "description": DECIDER_REFUSALS + " An access the policy in "
                   "force no longer allows (a new version since it was approved) cannot be "
                   "kept: 422 with the violations; it is revoked instead.",
        "operationId": "reviewGrant", "parameters": _id("grant_id"),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision", "comment"], "properties": {
                "decision": {"type": "string", "enum": ["keep", "revoke"]},
                "comment": STR}}}}},
        "responses": {"200": _response({"type": "object", "required": ["review", "grant"],
                                        "properties": {"review": _ref("Review"),
                                                       "grant": _ref("Grant")}}),
                      **_errors(400, 401, 403, 404, 409, 422)}}},
    "/reviews/overdue": {"get": {
        "summary": "Active grants overdue for review on as_of (default today)",
        "operationId": "listOverdueReviews",
        "parameters": PAGING + [_query("as_of", {"type": "string", "format": "date"})],
        "responses": {"200": _response(_list_of("OverdueGrant")), **_errors(400, 401, 403)}}},
    "/tasks": {"get": {
        "summary": "The user administrator's accesses to create and to remove",
        "operationId": "listTasks",
        "responses": {"200": _response(_ref("Tasks")), **_errors(401, 403)}}},
    "/acknowledgements": {"post": {
        "summary": "The caller acknowledges the current lookup principles (P3)",
        "operationId": "acknowledge",
        "description": "No body, or an empty JSON object; any field is a 400 naming it.",
        "responses": {"201": _response(_ref("Acknowledgement"), "Acknowledged"),
                      **_errors(400, 401, 403)}}},
    "/audit": {"get": {
        "summary": "The audit trail (DPO and admin)", "operationId": "listAudit",
        "parameters": PAGING + [_query("actor", STR), _query("action", STR),
                                _query("object_type", STR), _query("object_id", STR),
                                _query("from", {"type": "string", "format": "date"}),
                                _query("to", {"type": "string", "format": "date"}),
                                _query("principle", {"type": "string", "enum": [
                                    f"P{n}" for n in range(1, 8)],
                                    "description": "refusals under this principle"})],
        "responses": {"200": _response(_list_of("AuditEntry")), **_errors(400, 401, 403)}}},
    "/audit/verify": {"get": {
        "summary": "Verify the audit hash chain (DPO and admin)", "operationId": "verifyAudit",
        "parameters": [_query("anchor", {"type": "string",
                                         "pattern": "^[1-9][0-9]{0,8}:[0-9a-fA-F]{16,64}$",
                                         "description": "NUMBER:HASH of an entry as an "
                                                        "earlier verification gave it"})],
        "responses": {"200": _response(_ref("ChainReport")), **_errors(400, 401, 403)}}},
    "/openapi.json": {"get": {"summary": "This document", "operationId": "getOpenapi",
                              "security": [],
                              "responses": {"200": _response({"type": "object"})}}},
}


def _with_common_errors(paths: dict) -> dict:
    """What every operation may answer besides its own: a 400 for a query parameter it does
    not take, a 413 for a body over the limit where it takes one, and a server error; each
    in the same error shape."""
    result = {}
    for path, item in paths.items():
        result[path] = {method: {**op, "responses": {
            **({} if "security" in op else _errors(400)),
            **({"413": _response(ERROR, "The body is too large")} if method in (
                "post", "patch") else {}),
            **op["responses"],
            "500": _response(ERROR, "Server error; nothing was saved"),
            "503": {**_response(ERROR, "The database was busy with another change and gave "
                                       "up waiting; nothing was saved. Try again after the "
                                       "seconds in Retry-After."),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}}}}}
            for method, op in item.items()}
    return result


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Data-access governance register API", "version": "1",
                 "description": "The register of who may look up citizens' data in which "
                                "systems, under the municipality's approved lookup "
                                "principles."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _with_common_errors(PATHS),
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "flask --app wsgi token create USERNAME [--days N]: a "
                                      "token works for a year unless made for less (at most "
                                      "two); an expired one is a 401 with the code "
                                      "token_expired"}}},
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
