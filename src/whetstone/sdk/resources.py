"""``client.prompts`` and ``client.datasets``: the REST endpoints, typed."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from whetstone.domain.prompt import Message
from whetstone.sdk.http import Http, seg
from whetstone.sdk.models import Dataset, Item, Page, Prompt

T = TypeVar("T")
MessageLike = Message | Mapping[str, str]
ItemLike = Item | Mapping[str, Any]


def iterate_pages(
    fetch: Callable[[int, int], Awaitable[Page[T]]], page_size: int
) -> AsyncIterator[T]:
    """Every item of a paged list: ``fetch(limit, offset)`` one page after another."""
    if not 1 <= page_size <= 500:
        raise ValueError("page_size must be 1-500")
    return _pages(fetch, page_size)


async def _pages(
    fetch: Callable[[int, int], Awaitable[Page[T]]], page_size: int
) -> AsyncIterator[T]:
    offset = 0
    while True:
        page = await fetch(page_size, offset)
        for item in page.items:
            yield item
        if not page.has_more or not page.items:
            return
        offset += len(page.items)


def _content(template: str | None, messages: Sequence[MessageLike] | None) -> dict[str, Any]:
    if (template is None) == (messages is None):
        raise ValueError("give exactly one of template= or messages=")
    if template is not None:
        return {"template": template}
    assert messages is not None
    return {"messages": [m.to_wire() if isinstance(m, Message) else dict(m) for m in messages]}


def _item(item: ItemLike) -> dict[str, Any]:
    """An item as sent: an :class:`Item`, or a mapping with ``input`` and optionally
    ``expected_output``/``expectedOutput`` and ``metadata`` (the server takes both
    spellings)."""
    return item.to_wire() if isinstance(item, Item) else dict(item)


class AsyncPrompts:
    def __init__(self, http: Http) -> None:
        self._http = http

    async def create(
        self,
        name: str,
        *,
        template: str | None = None,
        messages: Sequence[MessageLike] | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Prompt:
        """A new prompt (version 1): one ``template`` string or a list of ``messages``."""
        body: dict[str, Any] = {"name": name, **_content(template, messages)}
        if description is not None:
            body["description"] = description
        if tags is not None:
            body["tags"] = list(tags)
        return Prompt.from_wire((await self._http.post("/api/prompts", body)).data)

    async def list(
        self, *, name: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Prompt]:
        """The latest version of each prompt, newest first; ``name`` filters by exact name."""
        answer = await self._http.get("/api/prompts", name=name, limit=limit, offset=offset)
        return Page.from_wire(answer.data, answer.meta, Prompt.from_wire)

    def iterate(self, *, name: str | None = None, page_size: int = 100) -> AsyncIterator[Prompt]:
        """Every prompt of :meth:`list`, fetched a page at a time."""
        return iterate_pages(lambda n, o: self.list(name=name, limit=n, offset=o), page_size)

    async def get(self, prompt_id: str) -> Prompt:
        return Prompt.from_wire((await self._http.get(f"/api/prompts/{seg(prompt_id)}")).data)

    async def create_version(
        self,
        prompt_id: str,
        *,
        template: str | None = None,
        messages: Sequence[MessageLike] | None = None,
        description: str | None = None,
    ) -> Prompt:
        """A new version of the prompt (any version's id will do); it becomes the latest."""
        body = _content(template, messages)
        if description is not None:
            body["description"] = description
        answer = await self._http.post(f"/api/prompts/{seg(prompt_id)}/versions", body)
        return Prompt.from_wire(answer.data)

    async def versions(self, prompt_id: str) -> builtins.list[Prompt]:
        """Every version of the prompt, oldest first."""
        answer = await self._http.get(f"/api/prompts/{seg(prompt_id)}/versions")
        return [Prompt.from_wire(p) for p in answer.data]


class AsyncDatasets:
    def __init__(self, http: Http) -> None:
        self._http = http

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        items: Iterable[ItemLike] = (),
    ) -> Dataset:
        """A new dataset, with ``items`` in one request (see :meth:`add_items` for batches)."""
        body: dict[str, Any] = {"name": name, "items": [_item(i) for i in items]}
        if description is not None:
            body["description"] = description
        return Dataset.from_wire((await self._http.post("/api/datasets", body)).data)

    async def list(self, *, limit: int | None = None, offset: int | None = None) -> Page[Dataset]:
        answer = await self._http.get("/api/datasets", limit=limit, offset=offset)
        return Page.from_wire(answer.data, answer.meta, Dataset.from_wire)

    def iterate(self, *, page_size: int = 100) -> AsyncIterator[Dataset]:
        return iterate_pages(lambda n, o: self.list(limit=n, offset=o), page_size)

    async def get(self, dataset_id: str) -> Dataset:
        return Dataset.from_wire((await self._http.get(f"/api/datasets/{seg(dataset_id)}")).data)

    async def add_items(
        self, dataset_id: str, items: Iterable[ItemLike], *, batch_size: int = 1000
    ) -> int:
        """Append ``items`` (any iterable, read lazily) in requests of ``batch_size``;
        returns how many were added. Each request is atomic, the whole call is not."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        added = 0
        source = iter(items)
        while batch := [_item(i) for i in islice(source, batch_size)]:
            answer = await self._http.post(
                f"/api/datasets/{seg(dataset_id)}/items", {"items": batch}
            )
            added += int(answer.data["added"])
        return added

    async def items(
        self, dataset_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> Page[Item]:
        """Items in insertion order, one page at a time."""
        answer = await self._http.get(
            f"/api/datasets/{seg(dataset_id)}/items", limit=limit, offset=offset
        )
        return Page.from_wire(answer.data, answer.meta, Item.from_wire)

    def iterate_items(self, dataset_id: str, *, page_size: int = 500) -> AsyncIterator[Item]:
        return iterate_pages(lambda n, o: self.items(dataset_id, limit=n, offset=o), page_size)
