"""`IdentityProvider` implementations: OpenID Connect over httpx, with Authlib and joserfc."""
