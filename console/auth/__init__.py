"""Who is signed in: users and roles, one server-side record per sign-in, the login throttle,
the session-signing key, and the sign-in pages."""
