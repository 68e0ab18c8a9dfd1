"""Pagination rules and the error seam."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mastra_dynamo import errors
from mastra_dynamo.pagination import paginate


def test_paginate_rules() -> None:
    p = paginate(2, 10, default=40)
    assert (p.offset, p.limit, p.per_page) == (20, 10, 10)
    assert p.has_more(31) and not p.has_more(30)
    everything = paginate(0, False, default=40)
    assert everything.per_page is False and everything.limit is None and not everything.has_more(10**6)
    assert paginate(None, None, default=40).limit == 40
    assert paginate(0, None, default=None).per_page is False
    assert paginate(3, 0, default=40).limit == 0


@pytest.mark.parametrize(("page", "per_page"), [(-1, 10), (1, False), (0, -5), (0, 1.5), (True, 1), (2**60, 2**10)])
def test_paginate_rejects_bad_input(page: object, per_page: object) -> None:
    with pytest.raises(errors.ValidationError) as info:
        paginate(page, per_page, default=40)  # type: ignore[arg-type]
    assert info.value.code == "INVALID_PAGINATION"


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "r"}}, "Op")


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (_client_error("ProvisionedThroughputExceededException"), errors.ThrottledError, True),
        (_client_error("ThrottlingException"), errors.ThrottledError, True),
        (_client_error("InternalServerError", 500), errors.RetryableError, True),
        (_client_error("ResourceNotFoundException"), errors.TableNotFoundError, False),
        (_client_error("ConditionalCheckFailedException"), errors.ConflictError, False),
        (_client_error("AccessDeniedException"), errors.ConfigurationError, False),
        (_client_error("SomethingElse"), errors.BackendError, False),
        (EndpointConnectionError(endpoint_url="http://x"), errors.RetryableError, True),
    ],
)
def test_backend_errors_are_translated(exc: Exception, kind: type[errors.StorageError], retryable: bool) -> None:
    translated = errors.translate_backend_error(exc, operation="GetItem", table="t")
    assert isinstance(translated, kind)
    assert translated.retryable is retryable
    assert translated.code and translated.details["operation"] == "GetItem"
    assert str(translated) != "m"  # never just the raw backend message


def test_validation_errors_are_value_errors_with_stable_codes() -> None:
    err = errors.ValidationError("bad", code="INVALID_ID")
    assert isinstance(err, ValueError) and isinstance(err, errors.StorageError)
    assert err.code == "INVALID_ID" and "INVALID_ID" in str(err)
