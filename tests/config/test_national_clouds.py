"""The microsoft_cloud setting and MicrosoftCloud policy choose the Entra authority and the Graph host."""

from __future__ import annotations

import pytest

from tray_agent.config.endpoints import MICROSOFT_CLOUDS, Endpoints
from tray_agent.config.layers import apply_policy
from tray_agent.config.policy import RawLayer, resolve
from tray_agent.config.settings import Settings, SettingsError

TENANT = "contoso.onmicrosoft.us"


@pytest.mark.parametrize(
    ("cloud", "authority", "graph"),
    [
        ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        ("gcc_high", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    ],
)
def test_each_cloud_has_its_own_sign_in_and_graph_hosts(cloud: str, authority: str, graph: str) -> None:
    endpoints = Endpoints.cloud(TENANT, "us_east_2", cloud)
    assert endpoints.entra_authority == f"{authority}/{TENANT}"
    assert endpoints.graph_base == graph
    assert endpoints.genesys_api_base == "https://api.use2.us-gov-pure.cloud"  # FedRAMP stays in the region list


def test_the_setting_is_read_strictly_and_the_policy_wins_and_locks_it() -> None:
    assert Settings.from_mapping({"agent": {"microsoft_cloud": "GCC_High"}}).microsoft_cloud == "gcc_high"
    with pytest.raises(SettingsError, match="microsoft_cloud 'china' is not one of: global, gcc_high, dod"):
        Settings.from_mapping({"agent": {"microsoft_cloud": "china"}})
    policy = resolve([RawLayer("HKLM", {"microsoft_cloud": "dod"}, names="registry")])
    assert "microsoft_cloud" in policy.locked
    assert apply_policy(Settings(microsoft_cloud="gcc_high"), policy).microsoft_cloud == "dod"
    bad = resolve([RawLayer("HKLM", {"microsoft_cloud": "usgov"}, names="registry")])
    assert bad.problems and "is not a Microsoft cloud" in bad.problems[0]
    assert apply_policy(Settings(microsoft_cloud="gcc_high"), bad).microsoft_cloud == "global"  # default, locked
    assert set(MICROSOFT_CLOUDS) == {"global", "gcc_high", "dod"}


def test_proxy_settings_that_cannot_work_are_refused_with_the_reason() -> None:
    with pytest.raises(SettingsError, match="user name or password"):
        Settings.from_mapping({"agent": {"proxy": "http://me:secret@proxy:8080"}})
    with pytest.raises(SettingsError, match="PacUrl"):
        Settings.from_mapping({"agent": {"pac_url": "wpad.corp/proxy.pac"}})
    policy = resolve([RawLayer("HKLM", {"proxy": "socks5://proxy:1080", "pac_url": "ftp://x/p.pac"}, names="registry")])
    assert len(policy.problems) == 2
