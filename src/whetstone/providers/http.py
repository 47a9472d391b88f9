"""What the HTTP providers share: :class:`HTTPProvider`, their base, and
:class:`ProviderClient`, their HTTP side.

One ``httpx.AsyncClient`` (one connection pool) per provider instance; it POSTs JSON,
retries what the :class:`RetryPolicy` allows (429, 5xx, network errors, timeouts) and
turns every other failure into a typed error of :mod:`whetstone.providers.errors`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from whetstone.providers.config import ProviderConfig, ProviderEnv
from whetstone.providers.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from whetstone.providers.retry import RETRY_STATUSES, parse_retry_after

# Failures where the request may not have reached the provider, or its answer was lost.
RETRY_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_SNIPPET = 300  # characters of a non-JSON error body quoted in a message


class HTTPProvider:
    """Resolves its endpoint when constructed (so a missing key raises
    :class:`ProviderConfigError` before any call) and owns one :class:`ProviderClient`."""

    name: str
    env: ClassVar[ProviderEnv]

    def __init__(
        self,
        config: ProviderConfig | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        config = config or ProviderConfig()
        found = self.env.endpoint(config, os.environ if environ is None else environ)
        self.base_url = found.base_url
        self.http = ProviderClient(
            self.name,
            found.base_url,
            self.headers(found.api_key),
            config,
            key_names=self.env.key_names,
            secret=found.api_key,
            transport=transport,
        )

    def headers(self, api_key: str | None) -> dict[str, str]:
        raise NotImplementedError

    @property
    def attempts(self) -> int:
        """HTTP requests sent so far."""
        return self.http.attempts

    @property
    def retries(self) -> int:
        """Of :attr:`attempts`, how many were retries."""
        return self.http.retries

    async def close(self) -> None:
        await self.http.aclose()


class ProviderClient:
    def __init__(
        self,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        config: ProviderConfig,
        *,
        key_names: str,
        secret: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self._retry = config.retry
        self._key_names = key_names
        self._secret = secret
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers),
            timeout=config.timeout_seconds,
            transport=transport,
        )
        self.attempts = 0  # HTTP requests sent, over every call
        self.retries = 0  # of which were retries

    async def post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` and return the JSON object answered, retrying as the policy allows."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                response = await self._client.post(path, json=body)
            except RETRY_EXCEPTIONS as exc:
                cause: Exception = exc
                status, retry_after, last = None, None, _describe(exc)
            except httpx.HTTPError as exc:  # an invalid URL, an unsupported scheme …
                raise ProviderConfigError(
                    self.provider, self._redact(f"{self.provider} request failed: {_describe(exc)}")
                ) from exc
            else:
                if response.is_success:
                    return self._json(response)
                self._raise_unless_retryable(response)
                status = response.status_code
                retry_after = parse_retry_after(response.headers, self._retry.clock.now())
                last = f"HTTP {status}: {self._message(response)}"
                cause = httpx.HTTPStatusError(last, request=response.request, response=response)
            decision = self._retry.decide(attempt, waited, retry_after)
            if decision.wait is None:
                plural = "" if attempt == 1 else "s"
                raise ProviderUnavailableError(
                    self.provider,
                    f"{self.provider} unavailable after {attempt} attempt{plural}: "
                    f"{decision.reason}; last: {last}",
                    attempts=attempt,
                    provider_status=status,
                ) from cause
            self.retries += 1
            waited += decision.wait
            await self._retry.sleep(decision.wait)

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        await self._client.aclose()

    def malformed(self, what: str) -> ProviderResponseError:
        return ProviderResponseError(
            self.provider, f"{self.provider} returned a malformed response: {what}"
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise self.malformed(f"the body is not JSON: {self._snippet(response)}") from exc
        if not isinstance(data, dict):
            raise self.malformed(f"expected a JSON object, got {type(data).__name__}")
        return data

    def _raise_unless_retryable(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in RETRY_STATUSES:
            return
        message = f"HTTP {status}: {self._message(response)}"
        if status in (401, 403):
            raise ProviderAuthError(
                self.provider,
                f"{self.provider} rejected the API key ({message}); check {self._key_names}",
                provider_status=status,
            )
        raise ProviderRequestError(
            self.provider,
            f"{self.provider} refused the request ({message})",
            provider_status=status,
        )

    def _message(self, response: httpx.Response) -> str:
        """The provider's own error message: ``error.message`` (OpenAI, Anthropic; with the
        error type if given), ``error`` as text (Ollama), ``message`` or ``detail``."""
        try:
            body = response.json()
        except ValueError:
            return self._snippet(response) or response.reason_phrase
        text: Any = None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict) and err.get("message"):
                kind = err.get("type")
                text = f"{kind}: {err['message']}" if isinstance(kind, str) else err["message"]
            else:
                text = err or body.get("message") or body.get("detail")
        return self._redact(str(text)) if text else self._snippet(response)

    def _snippet(self, response: httpx.Response) -> str:
        text = response.text.strip()
        if len(text) > _SNIPPET:
            text = text[:_SNIPPET] + "…"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def pluck(client: ProviderClient, data: Any, *path: str | int) -> Any:
    """``data[path[0]][path[1]]…``, or a :class:`ProviderResponseError` naming the path."""
    for depth, key in enumerate(path):
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            data = None
        if data is None:
            raise client.malformed(f"missing {_dotted(path[: depth + 1])}")
    return data


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else f".{key}" if out else key
    return out


def token_count(client: ProviderClient, usage: Any, key: str) -> int:
    """``usage[key]``; 0 when the server reports no usage (local servers may omit it)."""
    value = usage.get(key) if isinstance(usage, dict) else None
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise client.malformed(f"usage.{key} is not a token count: {value!r}")
    return value
