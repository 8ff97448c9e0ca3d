"""The OpenAPI 3.1 description of ``/api/v1/``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error_response(description: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Describe an error answer; ``headers`` maps each header it always carries to its meaning."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


def _method_not_allowed(method: str) -> dict[str, Any]:
    return _error_response(
        f"Only {method} is allowed here.", {"Allow": f"The allowed method: {method}."}
    )


_SERVER_ERROR = _error_response(
    "Something went wrong on our side; try again later. The body is still an Error."
)


def openapi(*, server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Clinic Portal API",
            "version": "1.0.0",
            "description": (
                "Machine access to a practice's patient portal. Every call carries one of the "
                "practice's API keys (Office → Admin → API keys) as a bearer token. A patient "
                "of another practice is answered exactly like one that does not exist (404). "
                "Every answer is JSON; an error is an Error object, including the 404 for any "
                "address under /api/ that is not described here."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"apiKey": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "operationId": "openapiDocument",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 description of this API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "405": _method_not_allowed("GET"),
                        "500": _SERVER_ERROR,
                    },
                }
            },
            "/patients/{patient_id}/portal-documents": {
                "post": {
                    "operationId": "printToPortal",
                    "summary": "Put a PDF on a patient's portal (print to portal).",
                    "description": (
                        "Common use: prescriptions and letters printed from another program. "
                        "The document appears under the patient's RECORDS at once, green "
                        "(from the chart) in the office's Online Files list."
                    ),
                    "parameters": [
                        {
                            "name": "patient_id",
                            "in": "path",
                            "required": True,
                            "description": "The patient's id, as shown on their Online Portal.",
                            "schema": {"type": "string", "format": "uuid"},
                        },
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "A key of your choice, new for each document (a UUID, say), "
                                "to send again with a retry: a request whose answer was lost "
                                "can then be sent again and the document is stored once."
                            ),
                            "schema": {"type": "string", "pattern": "^[!-~]{1,64}$"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {"$ref": "#/components/schemas/NewPortalDocument"},
                                "encoding": {"file": {"contentType": "application/pdf"}},
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": (
                                "The document is on the patient's portal. A retry with the "
                                "Idempotency-Key of a document already stored gets that one, "
                                "as it is stored (the retry's description, date and filename "
                                "are not read)."
                            ),
                            "headers": {
                                "Idempotent-Replayed": {
                                    "description": (
                                        "true when the document was stored by an earlier "
                                        "request with the same Idempotency-Key."
                                    ),
                                    "schema": {"type": "string", "enum": ["true"]},
                                }
                            },
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/PortalDocument"}
                                }
                            },
                        },
                        "400": _error_response(
                            "Not a PDF, empty, too large, or a field or the Idempotency-Key "
                            "header is malformed; nothing was stored."
                        ),
                        "401": _error_response(
                            "The API key is missing, wrong or revoked.",
                            {"WWW-Authenticate": 'The scheme to use: Bearer realm="clinicportal".'},
                        ),
                        "404": _error_response(
                            "No such patient in this practice (a malformed id included)."
                        ),
                        "405": _method_not_allowed("POST"),
                        "409": _error_response(
                            "The document printed with this Idempotency-Key was removed from "
                            "the portal since; it is not stored again. Send a new key to put "
                            "it back."
                        ),
                        "413": _error_response("The form fields (not the file) are too large."),
                        "422": _error_response(
                            "The Idempotency-Key was already used for another patient or "
                            "another file; nothing was stored."
                        ),
                        "429": _error_response(
                            "Too many wrong keys from this address in 15 minutes.",
                            {"Retry-After": "Seconds to wait before trying again."},
                        ),
                        "500": _SERVER_ERROR,
                        "503": _error_response(
                            "The server's storage could not take the file (for example, it is "
                            "full); nothing was stored. Try again later."
                        ),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of the form cpk_<prefix>_<secret>.",
                }
            },
            "schemas": {
                "NewPortalDocument": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "contentMediaType": "application/pdf",
                            "description": (
                                "The PDF. Its filename is shown on the portal; a part sent "
                                "without one is named document.pdf."
                            ),
                        },
                        "date": {
                            "type": "string",
                            "anyOf": [{"format": "date"}, {"maxLength": 0}],
                            "description": (
                                "The document's date (YYYY-MM-DD); today if empty or left out."
                            ),
                        },
                        "description": {
                            "type": "string",
                            "maxLength": 300,
                            "pattern": "^[^\\u0000]*$",
                            "description": "Shown to the patient; no NUL characters.",
                        },
                        "is_education": {
                            "type": "boolean",
                            "default": False,
                            "description": "Mark as an education resource.",
                        },
                    },
                },
                "PortalDocument": {
                    "type": "object",
                    "required": [
                        "id",
                        "patient_id",
                        "filename",
                        "description",
                        "date",
                        "is_education",
                        "size",
                        "sha256",
                    ],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "patient_id": {"type": "string", "format": "uuid"},
                        "filename": {"type": "string"},
                        "description": {"type": "string"},
                        "date": {"type": "string", "format": "date"},
                        "is_education": {"type": "boolean"},
                        "size": {"type": "integer", "minimum": 1},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    }
