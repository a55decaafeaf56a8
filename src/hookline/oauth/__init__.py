"""Hookline as an OAuth 2 authorization server for its own API: registered
applications, the authorization code flow with PKCE, refresh with rotation,
revocation, introspection and metadata (RFC 6749, 7636, 7009, 7662, 8414).

Authlib supplies the protocol's error objects (RFC 6749 §5.2 bodies,
``WWW-Authenticate``, redirects with the error) and the PKCE S256 transform;
its server classes are synchronous and framework-bound, so the flows here
are our own, over the same async storage as every command. The state
(codes, grants, tokens) lives in our tables; see ``store`` for how single
use is enforced."""
