"""Where the agent talks to: endpoints derived from the Entra tenant, the Microsoft cloud and the
Genesys region (region table from shared/reference/genesys-cloud.md §3.1). Only the simulator
overrides them, and it adds its own CA to the trusted set: TLS verification is never switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

from tray_agent.config.settings_error import SettingsError

GENESYS_REGIONS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "us_east_2": "use2.us-gov-pure.cloud",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "eu_west_1": "mypurecloud.ie",
    "eu_west_2": "euw2.pure.cloud",
    "eu_central_1": "mypurecloud.de",
    "eu_central_2": "euc2.pure.cloud",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "ap_northeast_2": "apne2.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
}

# Microsoft national clouds where Graph presence exists (reference: signals-writeback-enterprise.md §4;
# Microsoft's "national cloud deployments" page): setting value → (Entra sign-in host, Graph host).
MICROSOFT_CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("login.microsoftonline.com", "graph.microsoft.com"),
    "gcc_high": ("login.microsoftonline.us", "graph.microsoft.us"),  # US Government L4
    "dod": ("login.microsoftonline.us", "dod-graph.microsoft.us"),  # US Government L5
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    entra_authority: str
    graph_base: str
    genesys_login_base: str
    genesys_api_base: str
    extra_ca_file: str | None = None  # the simulator's private CA; added to, never replacing, the trust store

    @classmethod
    def cloud(cls, tenant_id: str, genesys_region: str, microsoft_cloud: str = "global") -> Endpoints:
        domain = GENESYS_REGIONS.get(genesys_region)
        if domain is None:
            raise SettingsError(f"genesys_region {genesys_region!r} is not a Genesys Cloud region")
        hosts = MICROSOFT_CLOUDS.get(microsoft_cloud)
        if hosts is None:
            raise SettingsError(f"microsoft_cloud {microsoft_cloud!r} is not one of: {', '.join(MICROSOFT_CLOUDS)}")
        login, graph = hosts
        return cls(
            entra_authority=f"https://{login}/{tenant_id}",
            graph_base=f"https://{graph}",
            genesys_login_base=f"https://login.{domain}",
            genesys_api_base=f"https://api.{domain}",
        )

    @classmethod
    def simulator(cls, base_url: str, tenant_id: str, ca_file: str) -> Endpoints:
        return cls(f"{base_url}/{tenant_id}", base_url, base_url, base_url, ca_file)
