"""The error the mock answers with when a request fails before any answer is sent."""

from __future__ import annotations

from ..schema import ErrorDetail, ErrorResponse

__all__ = ["MockAPIError"]


class MockAPIError(Exception):
    """The request fails with an HTTP error before any answer is sent."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(
            error=ErrorDetail(message=message, type=type, param=param, code=code)
        )
        self.headers = headers or {}
