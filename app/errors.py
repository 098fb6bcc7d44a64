"""The one error type services raise for input they refuse, and its handlers for pages and the API.

A service raises `ServiceError` with an HTTP status (422 refused input, 409 a conflict or a stale
write, 404 …), a message for the person, and the problems of each form field, all in the request's
language. A route that shows a form catches it to show the form again with `problems` and
`status`; anything it does not catch reaches the page handler (an error page) or the API's (JSON).
"""

from __future__ import annotations


class ServiceError(Exception):
    """Refused input or a conflict: an HTTP status, a message, and the problems of each field."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 422,
        field: str | None = None,
        problems: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.problems = dict(problems or {})
        if field and message:
            self.problems.setdefault(field, message)
        self.message = message or "; ".join(self.problems.values())
        self.field = field
        super().__init__(self.message)
