"""How a model provider fails, in one tree under :class:`whetstone.errors.ProviderError`.

::

    ProviderError (whetstone.errors)  code provider_error, HTTP 502
    ├── ProviderConfigError       no API key, an unusable base URL, an unknown provider
    ├── ProviderAuthError         the provider answered 401/403: the key is wrong
    ├── ProviderRequestError      any other 4xx: the provider refused the request
    ├── ProviderResponseError     a success whose body is not what the protocol promises
    └── ProviderUnavailableError  429/5xx/network errors/timeouts outlasted the retries

Only :class:`ProviderUnavailableError` is ``retryable``: the same request may succeed
later. The others need a change (a key, a model name, a fix) first. Messages name the
provider, and where a setting is the fix, the variables that hold it; never a key.
"""

from __future__ import annotations

from typing import Any, ClassVar

from whetstone.errors import ProviderError


class ProviderFailure(ProviderError):
    """Base of the errors below: knows its provider and, if it answered, the HTTP status."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        provider_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        extra: dict[str, Any] = {"provider": provider}
        if provider_status is not None:
            extra["providerStatus"] = provider_status
        super().__init__(message, details={**extra, **(details or {})})
        self.provider = provider
        self.provider_status = provider_status


class ProviderConfigError(ProviderFailure):
    """The provider cannot be used as configured (raised before any call is made)."""


class ProviderAuthError(ProviderFailure):
    """The provider rejected the API key (401) or its permissions (403)."""


class ProviderRequestError(ProviderFailure):
    """The provider refused the request (a 4xx other than 401/403/429); its message is kept."""


class ProviderResponseError(ProviderFailure):
    """The provider answered success with a body that does not follow its protocol."""


class ProviderUnavailableError(ProviderFailure):
    """The provider kept failing (429, 5xx, network, timeout) until the retry policy gave up."""

    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        attempts: int,
        provider_status: int | None = None,
    ) -> None:
        super().__init__(
            provider, message, provider_status=provider_status, details={"attempts": attempts}
        )
        self.attempts = attempts
