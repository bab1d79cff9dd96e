"""The OpenAPI 3.1 document of the API, kept beside the routes it describes."""
from __future__ import annotations

from flask import jsonify

from . import bp

ERROR = {"$ref": "#/components/schemas/Error"}


def _list_of(ref: str) -> dict:
    return {"type": "object", "required": ["items", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        "total": {"type": "integer", "minimum": 0}}}


def _response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    names = {400: "Malformed input", 401: "Not authenticated", 403: "Not allowed",
             404: "Not found", 409: "State conflict", 422: "Refused by the rules"}
    return {str(s): _response(ERROR, names[s]) for s in statuses}


PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
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
                     "status": {"type": "string", "enum": ["active", "left"]}}},
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
            "type": "string", "enum": ["active", "left"]}}],
        "responses": {"200": _response(_list_of("Employee")), **_errors(400, 401, 403)}}},
    "/employees/{username}": {"get": {
        "summary": "One employee (themselves, or for those who may list employees)",
        "operationId": "getEmployee",
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _response({"$ref": "#/components/schemas/Employee"}),
                      **_errors(401, 403, 404)}}},
    "/openapi.json": {"get": {"summary": "This document", "operationId": "getOpenapi",
                              "security": [],
                              "responses": {"200": _response({"type": "object"})}}},
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "HTK data-access governance register API", "version": "1",
                 "description": "The register of who may look up citizens' data in which "
                                "systems, under the EU-øst principles of 19-11-2024."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "flask --app wsgi token create USERNAME"}}},
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
