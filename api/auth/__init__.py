"""Authentication (passwords, access/refresh tokens, API keys) and authorisation
(roles, permissions, the actor every service receives)."""
