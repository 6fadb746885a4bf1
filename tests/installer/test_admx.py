"""The Group Policy template: well-formed, every string resolves, and every policy writes exactly a value
the agent's policy reader understands, of a type it accepts (checked against tray_agent.config.policy, so the
template, the MSI and the agent cannot drift apart)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.config.policy_fakes import GENESYS_CLIENT, MS_CLIENT, TENANT, FakeRegistry
from tests.installer.conftest import INSTALLER
from tray_agent.config.endpoints import GENESYS_REGIONS, MICROSOFT_CLOUDS
from tray_agent.config.policy import (
    FLEET_SIZE_RANGE,
    MIN_POLL_INTERVAL_RANGE,
    POLICY_KEYS,
    POLICY_REGISTRY_KEY,
    read_policy,
)
from tray_agent.config.policy import RegistryPolicySource as Source

NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
ADMX = INSTALLER / "windows" / "policy" / "TeamsGenesysPresence.admx"
ADML = INSTALLER / "windows" / "policy" / "en-US" / "TeamsGenesysPresence.adml"
ELEMENT_TAGS = ("text", "decimal", "enum", "multiText", "boolean", "list", "longDecimal")


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 — our own files


@pytest.fixture(scope="module")
def admx() -> ET.Element:
    return parse(ADMX)


@pytest.fixture(scope="module")
def adml() -> ET.Element:
    return parse(ADML)


def policies(admx: ET.Element) -> dict[str, ET.Element]:
    return {policy.attrib["name"]: policy for policy in admx.iterfind("p:policies/p:policy", NS)}


def elements(policy: ET.Element) -> list[ET.Element]:
    found = policy.find("p:elements", NS)
    return [] if found is None else list(found)


def local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def test_both_files_are_policy_definition_documents(admx: ET.Element, adml: ET.Element) -> None:
    assert local(admx.tag) == "policyDefinitions" and admx.attrib["schemaVersion"] == "1.0"
    assert local(adml.tag) == "policyDefinitionResources" and adml.attrib["revision"] == admx.attrib["revision"]
    target = admx.find("p:policyNamespaces/p:target", NS)
    assert target is not None and target.attrib["namespace"] == "TrayAgent.Policies.TeamsGenesysPresence"
    resources = admx.find("p:resources", NS)
    assert resources is not None and resources.attrib["minRequiredRevision"] == adml.attrib["revision"]


def test_every_string_and_presentation_reference_resolves_and_nothing_is_left_over(
    admx: ET.Element, adml: ET.Element
) -> None:
    text = ADMX.read_text(encoding="utf-8")
    strings = {s.attrib["id"] for s in adml.iterfind("p:resources/p:stringTable/p:string", NS)}
    presentations = {p.attrib["id"]: p for p in adml.iterfind("p:resources/p:presentationTable/p:presentation", NS)}
    used_strings = set(re.findall(r"\$\(string\.([^)]+)\)", text))
    used_presentations = set(re.findall(r"\$\(presentation\.([^)]+)\)", text))
    assert used_strings - strings == set(), "ADMX names strings the ADML lacks"
    assert strings - used_strings == set(), "ADML strings nothing uses"
    assert used_presentations - presentations.keys() == set()
    assert presentations.keys() - used_presentations == set()
    assert all(s.text and s.text.strip() for s in adml.iterfind("p:resources/p:stringTable/p:string", NS))
    for name, policy in policies(admx).items():
        ids = {element.attrib["id"] for element in elements(policy)}
        reference = policy.attrib.get("presentation", "")
        if not ids:
            assert not reference, f"{name} has a presentation but no elements"
            continue
        controls = list(presentations[reference.removeprefix("$(presentation.").removesuffix(")")])
        assert {control.attrib["refId"] for control in controls} == ids, name


def test_every_category_and_supported_on_reference_is_defined(admx: ET.Element) -> None:
    categories = {c.attrib["name"] for c in admx.iterfind("p:categories/p:category", NS)}
    supported = {d.attrib["name"] for d in admx.iterfind("p:supportedOn/p:definitions/p:definition", NS)}
    for reference in admx.iter(f"{{{NS['p']}}}parentCategory"):
        assert reference.attrib["ref"] in categories
    for policy in policies(admx).values():
        on = policy.find("p:supportedOn", NS)
        assert on is not None and on.attrib["ref"] in supported


def test_the_policies_are_exactly_the_keys_the_agent_reads_under_its_policy_key(admx: ET.Element) -> None:
    written: dict[str, str] = {}
    for name, policy in policies(admx).items():
        assert policy.attrib["key"] == POLICY_REGISTRY_KEY, name
        assert policy.attrib["class"] == "Both", name  # Computer (HKLM) and User (HKCU) configuration
        value_names = [e.attrib["valueName"] for e in elements(policy)] or [policy.attrib["valueName"]]
        assert len(value_names) == 1, name
        written[name] = value_names[0]
        assert all(local(e.tag) in ELEMENT_TAGS for e in elements(policy))
    assert set(written.values()) == {key.registry for key in POLICY_KEYS}
    assert all(name == value for name, value in written.items())


def test_each_policy_offers_what_the_reader_accepts(admx: ET.Element) -> None:
    by_name = policies(admx)
    for key in POLICY_KEYS:
        policy = by_name[key.registry]
        kinds = [local(e.tag) for e in elements(policy)]
        if key.kind == "flag":
            assert kinds == []  # an on/off policy: Enabled writes 1, Disabled writes 0
            enabled = policy.find("p:enabledValue/p:decimal", NS)
            disabled = policy.find("p:disabledValue/p:decimal", NS)
            assert enabled is not None and disabled is not None
            assert (enabled.attrib["value"], disabled.attrib["value"]) == ("1", "0")
        elif key.kind in ("tenant", "guid", "proxy", "hosts", "pac", "media"):
            assert kinds == ["text"]
        elif key.kind == "cloud":
            assert kinds == ["enum"]
            values = [s.text for s in elements(policy)[0].iterfind("p:item/p:value/p:string", NS)]
            assert values == list(MICROSOFT_CLOUDS)
        elif key.kind == "region":
            assert kinds == ["enum"]
            values = [s.text for s in elements(policy)[0].iterfind("p:item/p:value/p:string", NS)]
            assert values == list(GENESYS_REGIONS)  # the region table the agent knows, in order
        elif key.kind in ("port", "seconds", "count"):
            assert kinds == ["decimal"]
            bounds = (int(elements(policy)[0].attrib["minValue"]), int(elements(policy)[0].attrib["maxValue"]))
            expected = {"port": (1024, 65535), "seconds": MIN_POLL_INTERVAL_RANGE, "count": FLEET_SIZE_RANGE}
            assert bounds == expected[key.kind]
        else:
            assert key.kind == "mapping" and kinds == ["multiText"]


def test_what_group_policy_writes_for_every_policy_is_read_back_without_a_problem(admx: ET.Element) -> None:
    """Each element as Group Policy stores it: text/enum → REG_SZ, decimal/on-off → REG_DWORD,
    multiText → REG_MULTI_SZ."""
    written: dict[str, object] = {
        "TenantId": TENANT,
        "MicrosoftClientId": MS_CLIENT,
        "GenesysRegion": "eu_central_2",
        "GenesysClientId": GENESYS_CLIENT,
        "GenesysRedirectPort": 65535,
        "MinPollInterval": 3600,
        "FleetSize": 5000,
        "StartAtLogin": 1,
        "AllowDeviceCode": 0,
        "AllowInsecureKeyring": 0,
        "WindowsBroker": 1,
        "CalendarTriggers": 1,
        "TeamsWriteback": 1,
        "TeamsWritebackMedia": "voice,chat,email",
        "TeamsBusyWhileOnQueue": 0,
        "TeamsPreferredPresence": 1,
        "AllowDifferentEmails": 1,
        "MicrosoftCloud": "gcc_high",
        "Proxy": "proxy.corp.example:8080",
        "ProxyBypass": "*.corp.example;<local>",
        "PacUrl": "http://wpad.corp.example/proxy.pac",
        "Mapping": ["InAMeeting=Meeting|Busy", "InACall=Teams call", "Presenting="],
    }
    assert written.keys() == policies(admx).keys()
    registry = FakeRegistry().set("HKLM", **written)
    policy = read_policy(Source(registry))
    assert policy.problems == ()
    assert policy.locked >= {key.setting for key in POLICY_KEYS if key.kind != "mapping"}
    assert (policy.genesys_redirect_port, policy.min_poll_interval, policy.start_at_login) == (65535, 3600.0, True)
    assert policy.windows_broker is True and policy.allow_different_emails is True
    assert policy.fleet_size == 5000
    assert policy.calendar_triggers is True
    assert policy.teams_writeback is True and policy.teams_busy_while_on_queue is False
    assert policy.teams_preferred_presence is True
    assert [media.value for media in policy.teams_writeback_media or ()] == ["voice", "chat", "email"]
    assert dict(policy.mapping) == {"InAMeeting": "Meeting|Busy", "InACall": "Teams call", "Presenting": ""}


def test_the_preferred_presence_help_says_plainly_that_it_overrides_the_users_choice_and_is_cleared(
    adml: ET.Element,
) -> None:
    strings = {s.attrib["id"]: s.text or "" for s in adml.iterfind("p:resources/p:stringTable/p:string", NS)}
    text = strings["TeamsPreferredPresence_Help"]
    assert "OVERRIDES the status the user chose" in text and "clears it (clearUserPreferredPresence)" in text
    assert "Presence.ReadWrite" in strings["TeamsWriteback_Help"]
