"""Users, roles and scopes, sessions and API tokens, guards, grants."""
