"""Errors that services raise and views translate into messages at the field."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the rules refuse; the message is shown to the user as is."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Forbidden(ServiceError):
    """The actor's role does not allow this (a rule of the service, not only of the page)."""

    status = 403
