"""Errors raised by services. Views translate them into HTTP answers; messages are Chinese-first."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A business rule refused the action (HTTP 400)."""

    status_code = 400
    code = "invalid"

    def __init__(
        self, message: Any, *, field_errors: dict[str, list[str]] | None = None, code: str | None = None
    ):
        super().__init__(str(message))
        self.message = str(message)
        self.field_errors = field_errors or {}
        if code:
            self.code = code


class NotAllowed(ServiceError):
    """The actor's role or unit may not do this (HTTP 403)."""

    status_code = 403
    code = "not_allowed"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """Someone else changed the record first (HTTP 409)."""

    status_code = 409
    code = "conflict"
