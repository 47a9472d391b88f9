"""The error tree: stable codes and HTTP statuses, and the body round trip."""

from __future__ import annotations

from typing import Any

import pytest

from whetstone.errors import (
    ERRORS_BY_CODE,
    ClientError,
    InternalError,
    InvalidRequest,
    InvalidTransition,
    LeaseLost,
    NotFound,
    PayloadTooLarge,
    ProviderError,
    RateLimited,
    Unauthorized,
    WhetstoneError,
    error_from_body,
)

# PROTOCOL.md's error body codes and statuses
PROTOCOL_ERRORS: list[tuple[type[WhetstoneError], str, int]] = [
    (InvalidRequest, "invalid_request", 400),
    (Unauthorized, "unauthorized", 401),
    (NotFound, "not_found", 404),
    (InvalidTransition, "invalid_transition", 409),
    (PayloadTooLarge, "payload_too_large", 413),
    (RateLimited, "rate_limited", 429),
    (InternalError, "internal", 500),
]
ALL_CLASSES = [cls for cls, _, _ in PROTOCOL_ERRORS] + [LeaseLost, ProviderError]


@pytest.mark.parametrize(("cls", "code", "status"), PROTOCOL_ERRORS)
def test_code_and_status_are_the_protocols(
    cls: type[WhetstoneError], code: str, status: int
) -> None:
    assert cls.code == code
    assert cls.status == status
    assert ERRORS_BY_CODE[code] is cls


def test_provider_error_is_a_bad_gateway() -> None:
    assert (ProviderError.code, ProviderError.status) == ("provider_error", 502)


def test_lease_lost_is_an_internal_server_error() -> None:
    assert LeaseLost.code == "lease_lost"
    assert LeaseLost.status == 500


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in ALL_CLASSES]
    assert len(codes) == len(set(codes))


def test_every_server_error_class_is_in_the_table() -> None:
    assert set(WhetstoneError.__subclasses__()) == {*ALL_CLASSES, ClientError}
    assert set(ERRORS_BY_CODE.values()) == set(ALL_CLASSES)
    assert all(code == cls.code for code, cls in ERRORS_BY_CODE.items())


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_every_error_is_a_whetstone_error(cls: type[WhetstoneError]) -> None:
    error = cls("something went wrong")
    assert isinstance(error, WhetstoneError)
    assert isinstance(error, Exception)
    assert str(error) == "something went wrong"
    assert error.message == "something went wrong"
    assert error.details == {}


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_to_body_has_the_protocol_shape(cls: type[WhetstoneError]) -> None:
    error = cls("maxIterations must be at most 100", details={"field": "maxIterations"})
    assert error.to_body() == {
        "error": {
            "code": cls.code,
            "message": "maxIterations must be at most 100",
            "details": {"field": "maxIterations"},
        }
    }


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_error_from_body_maps_back_to_the_same_class(cls: type[WhetstoneError]) -> None:
    original = cls("bad thing; do this instead", details={"fields": ["a", "b"], "n": 1})
    rebuilt = error_from_body(original.to_body())
    assert type(rebuilt) is cls
    assert rebuilt.message == original.message
    assert rebuilt.details == original.details
    assert rebuilt.to_body() == original.to_body()


def test_details_are_copied() -> None:
    details: dict[str, Any] = {"field": "x"}
    error = InvalidRequest("bad", details=details)
    details["field"] = "changed"
    assert error.details == {"field": "x"}


def test_root_error_body_maps_to_internal() -> None:
    rebuilt = error_from_body(WhetstoneError("oops").to_body())
    assert isinstance(rebuilt, InternalError)
    assert rebuilt.message == "oops"


def test_unknown_code_keeps_the_message() -> None:
    body = {"error": {"code": "teapot", "message": "short and stout", "details": {"a": 1}}}
    rebuilt = error_from_body(body)
    assert isinstance(rebuilt, WhetstoneError)
    assert rebuilt.message == "short and stout"
    assert rebuilt.details == {"a": 1}


@pytest.mark.parametrize(
    "body",
    [{}, {"detail": "Not Found"}, {"error": "string"}, {"error": None}, [], "text"],
)
def test_malformed_body_gives_an_internal_error(body: Any) -> None:
    rebuilt = error_from_body(body)
    assert isinstance(rebuilt, InternalError)
    assert repr(body) in rebuilt.message


def test_body_without_details_gives_empty_details() -> None:
    rebuilt = error_from_body({"error": {"code": "not_found", "message": "no such job"}})
    assert isinstance(rebuilt, NotFound)
    assert rebuilt.details == {}


def test_client_side_errors_never_come_from_a_server_body() -> None:
    from whetstone.sdk.errors import JobFailedError, WhetstoneConnectionError

    for cls in (ClientError, WhetstoneConnectionError, JobFailedError):
        assert issubclass(cls, ClientError)
        assert cls.code not in ERRORS_BY_CODE
    body = {"error": {"code": "connection_error", "message": "spoofed"}}
    assert type(error_from_body(body)) is WhetstoneError
