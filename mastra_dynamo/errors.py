"""The StorageError family and the one seam where backend errors are translated.

Every public method of the library raises only subclasses of :class:`StorageError`. Each error carries a
stable machine-readable ``code`` (never reworded), a human ``message``, ``details`` (ids and counts only:
never payloads or credentials) and the original ``cause`` when a backend error was translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class StorageError(Exception):
    """Base of every error raised by mastra-dynamo.

    ``code`` is stable across releases; ``retryable`` says whether the same call may succeed if repeated.
    """

    code: str = "STORAGE_ERROR"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.cause = cause

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, details={self.details!r})"


class ValidationError(StorageError, ValueError):
    """Bad input from the caller. Nothing was written."""

    code = "VALIDATION_FAILED"


class ItemTooLargeError(ValidationError):
    """A record does not fit in a DynamoDB item (400 KB) even after compression. Nothing was written."""

    code = "ITEM_TOO_LARGE"


class NotFoundError(StorageError, LookupError):
    """An update or other operation that requires an existing record found none."""

    code = "NOT_FOUND"


class ConflictError(StorageError):
    """The write conflicts with existing data (duplicate id, failed compare-and-set, lost race)."""

    code = "CONFLICT"


class RunFenceConflictError(StorageError):
    """A write carried a run fence that is no longer the run's current claim (another execution took the run
    over). Nothing was written; retrying cannot help (the run belongs to another execution), which is why it is
    not a ConflictError. ``details``: ``run_id``, ``generation``, ``owner_id``, ``operation``."""

    code = "STORAGE_RUN_FENCE_CONFLICT"


class RetryableError(StorageError):
    """A transient backend condition (throttling, 5xx, timeouts) outlasted the retry budget.

    ``details["operation"]`` names the request; for a write, ``details["unprocessed"]`` lists the ``(pk, sk)``
    keys it did not write: the rest of a batch that was cut short, or every key of a single write or
    transaction. After a timeout or reset the outcome of that last request is unknown (it may have been
    applied); repeating the call is safe (see docs/reliability.md).
    """

    code = "RETRYABLE"
    retryable = True


class ThrottledError(RetryableError):
    """DynamoDB throttled the request beyond the retry budget."""

    code = "THROTTLED"


class UnsupportedError(StorageError):
    """The store does not support this domain or feature."""

    code = "UNSUPPORTED"


class ConfigurationError(StorageError):
    """The store is misconfigured or the table does not match the expected schema."""

    code = "CONFIGURATION_ERROR"


class TableNotFoundError(ConfigurationError):
    code = "TABLE_NOT_FOUND"


class TableMismatchError(ConfigurationError):
    code = "TABLE_MISMATCH"


class BackendError(StorageError):
    """Any other failure reported by the backend."""

    code = "BACKEND_ERROR"


_THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
_RETRYABLE_CODES = frozenset(
    {"InternalServerError", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
)


def translate_backend_error(exc: BaseException, *, operation: str, table: str | None = None) -> StorageError:
    """Map a botocore/transport exception to the StorageError family (the one translation seam).

    The caller always does ``raise translate_backend_error(exc, ...) from exc``.
    """
    if isinstance(exc, StorageError):
        return exc
    details: dict[str, Any] = {"operation": operation}
    if table:
        details["table"] = table
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        code = str(error.get("Code", ""))
        msg = str(error.get("Message", ""))
        details["aws_code"] = code
        request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
        if request_id:
            details["request_id"] = request_id
        if code == "ResourceNotFoundException":
            return TableNotFoundError(
                f"{operation}: table {table!r} does not exist or is not accessible. Create it with "
                "DynamoDBStore.create_table() for local use, or deploy the CDK stack in infra/.",
                details=details,
                cause=exc,
            )
        if code in _THROTTLE_CODES:
            return ThrottledError(f"{operation}: throttled by DynamoDB ({code})", details=details, cause=exc)
        if code in _RETRYABLE_CODES or (response.get("ResponseMetadata") or {}).get("HTTPStatusCode", 0) >= 500:
            return RetryableError(f"{operation}: transient DynamoDB failure ({code})", details=details, cause=exc)
        if code == "ConditionalCheckFailedException":
            return ConflictError(f"{operation}: condition not met", details=details, cause=exc)
        if code == "ValidationException" and "size" in msg.lower():
            return ItemTooLargeError(f"{operation}: item exceeds DynamoDB's size limit", details=details, cause=exc)
        if code in {"AccessDeniedException", "UnrecognizedClientException", "MissingAuthenticationTokenException"}:
            return ConfigurationError(
                f"{operation}: access denied by AWS ({code}); check credentials and IAM grants",
                code="ACCESS_DENIED",
                details=details,
                cause=exc,
            )
        return BackendError(f"{operation}: DynamoDB rejected the request ({code})", details=details, cause=exc)
    # Transport-level failures from botocore (connection reset, read timeout, endpoint unreachable).
    name = type(exc).__name__
    details["exception"] = name
    if name in {"EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
                "ConnectionError", "ProxyConnectionError"}:
        return RetryableError(f"{operation}: could not reach DynamoDB ({name})", details=details, cause=exc)
    if name in {"NoCredentialsError", "PartialCredentialsError", "NoRegionError"}:
        return ConfigurationError(f"{operation}: {name}; configure AWS credentials/region", details=details,
                                  cause=exc)
    return BackendError(f"{operation}: unexpected backend failure ({name})", details=details, cause=exc)


__all__ = [
    "BackendError",
    "ConfigurationError",
    "ConflictError",
    "ItemTooLargeError",
    "NotFoundError",
    "RetryableError",
    "RunFenceConflictError",
    "StorageError",
    "TableMismatchError",
    "TableNotFoundError",
    "ThrottledError",
    "UnsupportedError",
    "ValidationError",
    "translate_backend_error",
]
