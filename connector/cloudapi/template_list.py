"""Meta's template list: GET /{waba_id}/message_templates, every page, for the register's sync.

Synchronous (httpx.Client): it runs from the command line (`python -m ops.templates sync`), not
inside a Rasa turn. Pages are followed by Meta's `paging.next` URL, which carries the cursor and
the query; a page without one is the last.
"""
from __future__ import annotations

import httpx

from connector.cloudapi import errors
from connector.cloudapi.config import GraphTarget

# Everything the register keeps; Meta returns only `id`, `name`, `status` … without `fields`.
FIELDS = "id,name,language,category,status,components,quality_score,rejected_reason"
PAGE_SIZE = 100
# A WABA holds at most 250 names, each in a few languages: this many pages is a loop, not data.
MAX_PAGES = 100


def fetch_templates(target: GraphTarget, client: httpx.Client | None = None, *,
                    page_size: int = PAGE_SIZE) -> list[dict]:
    """Every template of the target's WhatsApp Business Account, in Meta's order. Raises the
    cloudapi error for a Graph error (errors.from_graph), or NetworkError."""
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
    headers = {"Authorization": f"Bearer {target.access_token}"}
    url: str | None = target.templates_url
    params: dict | None = {"fields": FIELDS, "limit": page_size}
    items: list[dict] = []
    try:
        for _ in range(MAX_PAGES):
            try:
                response = client.get(url, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise errors.NetworkError(f"template list: {type(exc).__name__}", detail=str(exc)) from exc
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if response.status_code != 200 or not isinstance(payload, dict):
                raise errors.from_graph(response.status_code, payload)
            items.extend(item for item in payload.get("data") or [] if isinstance(item, dict))
            url = (payload.get("paging") or {}).get("next")
            if not url:
                return items
            params = None  # the next URL has them
        raise errors.ServerError(f"template list: more than {MAX_PAGES} pages; Meta's paging loops")
    finally:
        if own:
            client.close()
