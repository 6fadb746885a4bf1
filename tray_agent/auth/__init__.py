"""Signing in as the agent: Microsoft Entra ID (msal) and Genesys Cloud (PKCE), tokens kept in the OS keyring."""
