"""The business profile on the Cloud API: read it and update it
(`GET|POST /{phone-number-id}/whatsapp_business_profile`, URL from GraphTarget).

An update sets the fields it names to the same values however often it is sent, so unlike a
message it is safe to retry; this client tries once and leaves retrying to its caller
(bot/profile/sync.py records a failure where a person sees it). Fields are checked against
WhatsApp's limits (limits.py) before the request, so a bad file never reaches Meta.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import httpx

from connector.cloudapi import errors
from connector.cloudapi.config import GraphTarget
from connector.cloudapi.limits import check_business_profile, enforce
from connector.cloudapi.sender import DEFAULT_TIMEOUT

READ_FIELDS = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")


class ProfileClient:
    def __init__(self, target: GraphTarget, client: httpx.Client | None = None) -> None:
        self.target = target
        self.client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)

    def get(self, fields: Iterable[str] = READ_FIELDS) -> dict[str, Any]:
        """The profile as WhatsApp shows it (only the fields that have a value)."""
        payload = self._call("GET", params={"fields": ",".join(fields)})
        data = payload.get("data") if isinstance(payload, Mapping) else None
        return dict(data[0]) if isinstance(data, list) and data else {}

    def update(self, fields: Mapping[str, Any]) -> None:
        """Set `fields` (about, address, description, email, websites, vertical,
        profile_picture_handle); the others stay as they are. LimitError before any request."""
        enforce(check_business_profile(fields), "business profile")
        self._call("POST", json={"messaging_product": "whatsapp", **fields})

    def _call(self, method: str, **kwargs) -> Any:
        headers = {"Authorization": f"Bearer {self.target.access_token}"}
        try:
            response = self.client.request(method, self.target.business_profile_url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise errors.NetworkError(f"{type(exc).__name__}: {exc}",
                                      detail=self.target.business_profile_url) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.is_success:
            return payload
        raise errors.from_graph(response.status_code, payload)
