"""The wire: one client per service (Graph, Genesys REST and notifications), TLS, proxies, error mapping."""
