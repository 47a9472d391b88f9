from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from whetstone.server import serialize
from whetstone.server.deps import Key, Svc
from whetstone.server.schemas import MAX_INT, CreatePrompt, NewPromptVersion

router = APIRouter(prefix="/api/prompts", tags=["prompts"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]


@router.post("", status_code=201, summary="Create a prompt (version 1)")
async def create_prompt(body: CreatePrompt, svc: Svc, key: Key) -> dict[str, Any]:
    prompt = await svc.store.prompts.create(
        key.workspace_id, body.name, body.body(), body.description, body.tags
    )
    return serialize.one(serialize.prompt(prompt))


@router.get("", summary="The latest version of each prompt, newest first")
async def list_prompts(
    svc: Svc,
    key: Key,
    name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = await svc.store.prompts.page(key.workspace_id, name=name, limit=limit, offset=offset)
    return serialize.paged(page, serialize.prompt)


@router.get("/{prompt_id}", summary="One prompt version")
async def get_prompt(prompt_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    return serialize.one(serialize.prompt(await svc.store.prompts.get(key.workspace_id, prompt_id)))


@router.post("/{prompt_id}/versions", status_code=201, summary="Add a version; it becomes latest")
async def add_version(prompt_id: str, body: NewPromptVersion, svc: Svc, key: Key) -> dict[str, Any]:
    prompt = await svc.store.prompts.add_version(
        key.workspace_id, prompt_id, body.body(), body.description
    )
    return serialize.one(serialize.prompt(prompt))


@router.get("/{prompt_id}/versions", summary="Every version of the prompt, oldest first")
async def list_versions(prompt_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    versions = await svc.store.prompts.versions(key.workspace_id, prompt_id)
    return serialize.many(versions, serialize.prompt)
