"""The business profile client against the emulator's endpoint: update then read, the limits
checked before any request, Meta's errors as the error classes every path uses."""
from __future__ import annotations

import dataclasses

import httpx
import pytest

from connector.cloudapi import errors
from connector.cloudapi.limits import LimitError
from connector.cloudapi.profile import ProfileClient
from tests.emulator.in_process import in_process_graph


def test_update_then_get_and_the_errors():
    with in_process_graph() as graph:
        client = ProfileClient(graph.target, graph.client)
        client.update({"about": "Zapatos", "description": "Horario\n• Lunes: 10:00–14:00",
                       "websites": ["https://alba.example"], "vertical": "APPAREL"})
        assert client.get() == {"about": "Zapatos", "description": "Horario\n• Lunes: 10:00–14:00",
                                "websites": ["https://alba.example"], "vertical": "APPAREL",
                                "messaging_product": "whatsapp"}
        assert client.get(["about"]) == {"about": "Zapatos", "messaging_product": "whatsapp"}

        with pytest.raises(LimitError, match="about is 140 characters"):
            client.update({"about": "x" * 140})
        assert graph.emulator.profile["about"] == "Zapatos"  # never sent

        wrong_token = ProfileClient(dataclasses.replace(graph.target, access_token="wrong"), graph.client)
        with pytest.raises(errors.AuthError):
            wrong_token.update({"about": "Otro"})
        with pytest.raises(errors.InvalidRequestError, match="nonexisting field"):
            client.get(["colour"])


def test_a_connection_failure_is_a_network_error():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    with in_process_graph() as graph:
        client = ProfileClient(graph.target, httpx.Client(transport=httpx.MockTransport(refuse)))
        with pytest.raises(errors.NetworkError, match="ConnectError"):
            client.update({"about": "Zapatos"})
