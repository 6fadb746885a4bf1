"""Windows policy: HKLM then HKCU under Software\\Policies, read through a small interface so it runs here.

The registry data below is what each writer really produces: the MSI writes REG_SZ (an empty string
for a property left out), Group Policy's ADMX writes REG_DWORD for numbers and switches and
REG_MULTI_SZ for the mapping list.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.config.policy_fakes import GENESYS_CLIENT, MS_CLIENT, TENANT, FakeRegistry
from tray_agent.config.policy import (
    POLICY_KEYS,
    POLICY_REGISTRY_KEY,
    CombinedPolicySource,
    FilePolicySource,
    PlistPolicySource,
    Policy,
    RegistryPolicySource,
    WinRegistryReader,
    machine_policy_source,
    read_policy,
)


def policy_from(registry: FakeRegistry) -> Policy:
    return read_policy(RegistryPolicySource(registry))


def test_the_policy_key_is_under_software_policies_vendor_and_app() -> None:
    assert POLICY_REGISTRY_KEY == r"Software\Policies\TrayAgent\TeamsGenesysPresence"


def test_what_the_msi_writes_is_read_and_empty_properties_mean_not_set() -> None:
    registry = FakeRegistry().set(
        "HKLM",
        TenantId=TENANT,
        MicrosoftClientId=MS_CLIENT,
        GenesysRegion="eu_west_1",
        GenesysClientId=GENESYS_CLIENT.upper(),
        GenesysRedirectPort="8765",
        MinPollInterval="",
        StartAtLogin="1",
        AllowDeviceCode="0",
        AllowInsecureKeyring="",
        Mapping="InAMeeting=Meeting|Busy;InACall=Teams call",
    )
    policy = policy_from(registry)
    assert policy.problems == ()
    assert (policy.tenant_id, policy.microsoft_client_id, policy.genesys_client_id) == (
        TENANT,
        MS_CLIENT,
        GENESYS_CLIENT,  # GUIDs are compared as lower case
    )
    assert (policy.genesys_region, policy.genesys_redirect_port) == ("eu_west_1", 8765)
    assert (policy.start_at_login, policy.allow_device_code) == (True, False)
    assert policy.min_poll_interval is None and policy.allow_insecure_keyring is None
    assert dict(policy.mapping) == {"InAMeeting": "Meeting|Busy", "InACall": "Teams call"}
    assert "min_poll_interval" not in policy.locked and "allow_insecure_keyring" not in policy.locked
    assert policy.origins == (rf"HKLM\{POLICY_REGISTRY_KEY}",)


def test_what_group_policy_writes_is_read() -> None:
    registry = FakeRegistry().set(
        "HKLM",
        GenesysRedirectPort=9123,  # REG_DWORD
        MinPollInterval=120,
        AllowDeviceCode=1,
        Mapping=["Presenting=", "BeRightBack=Break|Away"],  # REG_MULTI_SZ
    )
    policy = policy_from(registry)
    assert policy.problems == ()
    assert (policy.genesys_redirect_port, policy.min_poll_interval, policy.allow_device_code) == (9123, 120.0, True)
    assert dict(policy.mapping) == {"Presenting": "", "BeRightBack": "Break|Away"}


def test_hklm_wins_over_hkcu_per_value() -> None:
    registry = FakeRegistry().set("HKLM", TenantId=TENANT, GenesysRegion="")
    registry.set("HKCU", TenantId="user.example", GenesysRegion="ca_central_1", AllowDeviceCode=0)
    policy = policy_from(registry)
    assert policy.tenant_id == TENANT
    assert policy.genesys_region == "ca_central_1"  # HKLM left it empty
    assert policy.allow_device_code is False  # only HKCU sets it
    assert policy.origins == (rf"HKLM\{POLICY_REGISTRY_KEY}", rf"HKCU\{POLICY_REGISTRY_KEY}")


def test_value_names_are_case_insensitive_like_the_registry() -> None:
    assert policy_from(FakeRegistry().set("HKLM", tenantid=TENANT)).tenant_id == TENANT


def test_unusable_values_are_listed_by_their_registry_name_and_the_rest_still_applies() -> None:
    registry = FakeRegistry().set(
        "HKLM",
        TenantId=TENANT,
        GenesysClientId="not-a-guid",
        StartAtLogin=2,
        GenesysRedirectPort=b"\x01\x02",  # REG_BINARY
        Mapping="InAMeeting",
        Colour="blue",
    )
    policy = policy_from(registry)
    assert policy.tenant_id == TENANT
    assert policy.genesys_client_id is None and policy.start_at_login is None
    assert {"genesys_client_id", "start_at_login", "genesys_redirect_port"} <= policy.locked
    problems = "\n".join(policy.problems)
    assert rf"HKLM\{POLICY_REGISTRY_KEY}: GenesysClientId: 'not-a-guid' is not a client ID" in problems
    assert "StartAtLogin: must be 1 or 0" in problems
    assert "GenesysRedirectPort: must be a whole number" in problems
    assert "'InAMeeting' is not TeamsValue=Genesys presence" in problems
    assert "unknown value 'Colour'" in problems
    assert len(policy.problems) == 5


def test_a_registry_that_cannot_be_read_is_a_problem_and_the_other_hive_still_counts() -> None:
    registry = FakeRegistry().set("HKCU", TenantId=TENANT)
    registry.broken.add("HKLM")
    policy = policy_from(registry)
    assert policy.tenant_id == TENANT
    assert policy.problems == (rf"HKLM\{POLICY_REGISTRY_KEY}: cannot be read ([Errno 5] Access is denied) — ignored",)


def test_no_policy_key_means_no_policy() -> None:
    policy = policy_from(FakeRegistry())
    assert policy.locked == frozenset() and policy.problems == () and policy.origins == ()


class FakeWinreg:
    """The slice of ``winreg`` the reader uses, with Windows' behaviour: OpenKey raises
    FileNotFoundError for a missing key, EnumValue raises OSError past the last value."""

    HKEY_LOCAL_MACHINE = 0x80000002
    HKEY_CURRENT_USER = 0x80000001
    KEY_READ = 0x20019
    KEY_WOW64_64KEY = 0x0100

    def __init__(self, keys: dict[tuple[int, str], list[tuple[str, Any, int]]]) -> None:
        self.keys = keys
        self.opened: list[tuple[int, str, int]] = []

    def OpenKey(self, root: int, key: str, reserved: int, access: int) -> Any:
        self.opened.append((root, key, access))
        if (root, key) not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return _Handle(self.keys[(root, key)])

    def EnumValue(self, handle: _Handle, index: int) -> tuple[str, Any, int]:
        if index >= len(handle.values):
            raise OSError(259, "No more data is available")
        return handle.values[index]


class _Handle:
    def __init__(self, values: list[tuple[str, Any, int]]) -> None:
        self.values = values

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_winreg_reader_enumerates_every_value_in_the_64_bit_view() -> None:
    fake = FakeWinreg(
        {
            (FakeWinreg.HKEY_LOCAL_MACHINE, POLICY_REGISTRY_KEY): [
                ("TenantId", TENANT, 1),  # REG_SZ
                ("GenesysRedirectPort", 9000, 4),  # REG_DWORD
                ("Mapping", ["InACall=Teams call"], 7),  # REG_MULTI_SZ
            ]
        }
    )
    reader = WinRegistryReader(fake)  # type: ignore[arg-type]
    assert reader.values("HKLM", POLICY_REGISTRY_KEY) == {
        "TenantId": TENANT,
        "GenesysRedirectPort": 9000,
        "Mapping": ["InACall=Teams call"],
    }
    assert reader.values("HKCU", POLICY_REGISTRY_KEY) is None
    assert all(access & FakeWinreg.KEY_WOW64_64KEY for _, _, access in fake.opened)
    policy = read_policy(RegistryPolicySource(reader))
    assert (policy.tenant_id, policy.genesys_redirect_port, dict(policy.mapping)) == (
        TENANT,
        9000,
        {"InACall": "Teams call"},
    )


@pytest.fixture
def no_winreg() -> Iterator[None]:
    assert "winreg" not in sys.modules or sys.platform == "win32"
    yield


def test_winreg_is_only_imported_on_windows(no_winreg: None) -> None:
    import tray_agent.config.policy  # noqa: F401 — importing the module must not need winreg

    if sys.platform != "win32":
        assert "winreg" not in sys.modules
        with pytest.raises(ModuleNotFoundError):
            WinRegistryReader().values("HKLM", POLICY_REGISTRY_KEY)


def test_each_platform_reads_its_own_machine_wide_place() -> None:
    windows = machine_policy_source("win32")
    assert isinstance(windows, RegistryPolicySource)
    linux = machine_policy_source("linux")
    assert isinstance(linux, FilePolicySource)
    assert str(linux.path) == "/etc/xdg/TeamsGenesysPresence/policy.toml"
    mac = machine_policy_source("darwin")
    assert isinstance(mac, CombinedPolicySource)
    places = [str(source.path) for source in mac._sources if isinstance(source, FilePolicySource | PlistPolicySource)]
    assert places == [
        "/Library/Managed Preferences/com.trayagent.teams-genesys-presence.plist",
        "/Library/Application Support/TeamsGenesysPresence/policy.toml",
    ]


def test_every_policy_key_has_distinct_names_everywhere() -> None:
    for attribute in ("setting", "registry", "msi_property"):
        names = [getattr(key, attribute).lower() for key in POLICY_KEYS]
        assert len(names) == len(set(names)), attribute
    assert SimpleNamespace(**{key.setting: None for key in POLICY_KEYS})  # valid identifiers
