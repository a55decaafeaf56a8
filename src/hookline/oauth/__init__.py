"""Hookline as an OAuth 2 authorization server for its own API: registered
applications, the authorization code flow with PKCE, refresh with rotation,
revocation, introspection and metadata (RFC 6749, 7636, 7009, 7662, 8414).

Authlib supplies the protocol's error objects (RFC 6749 §5.2 bodies and
``WWW-Authenticate``), the PKCE S256 transform and the metadata model; the
state (codes, grants, tokens) lives in our own tables, reached with the
same async storage as every command."""
