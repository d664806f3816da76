"""The console's HTTP API for programs (not people): `keys` (the API clients' bearer keys),
`views` (/api/v1: the alerts API on connector/outreach)."""
