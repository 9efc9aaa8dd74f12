"""Template deployments through Python's deployments SDK, unchanged, against a strict-auth amlite (issue 17).

azure-mgmt-resource 26 no longer has deployments: they moved to azure-mgmt-resource-deployments
(azure.mgmt.resource.deployments.DeploymentsMgmtClient), pinned in requirements.txt. The templates are the ARM JSON
files of test/templates/ (what `bicep build` emits for typical Foundry files). Fixtures: conftest.py.
"""

import json
import pathlib
import uuid

import pytest
from azure.core.exceptions import HttpResponseError

from conftest import MANAGEMENT_SCOPE

deployments_sdk = pytest.importorskip(
    "azure.mgmt.resource.deployments",
    reason="azure-mgmt-resource-deployments is not installed (npm run setup:python installs requirements.txt)",
)

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"
ML = "Microsoft.MachineLearningServices/workspaces"
EP_VERSION = "2024-10-01"


def template(name: str) -> dict:
    return json.loads((TEMPLATES / f"{name}.json").read_text())


def parameters(name: str) -> dict:
    return json.loads((TEMPLATES / f"{name}.parameters.json").read_text())["parameters"]


def body(name: str, mode: str = "Incremental", **overrides) -> dict:
    params = {**parameters(name), **{k: {"value": v} for k, v in overrides.items()}}
    return {"properties": {"mode": mode, "template": template(name), "parameters": params}}


def error_codes(error) -> list:
    """Every code in an ARM error (a model or a dict), its details included, at any depth."""
    if error is None:
        return []
    as_dict = error if isinstance(error, dict) else error.as_dict()
    return [as_dict.get("code")] + [c for d in as_dict.get("details") or [] for c in error_codes(d)]


@pytest.fixture(scope="module")
def deployments(credential, url, subscription_id):
    return deployments_sdk.DeploymentsMgmtClient(
        credential, subscription_id, base_url=url, credential_scopes=[MANAGEMENT_SCOPE], polling_interval=0.2
    )


@pytest.fixture(scope="module")
def group(arm) -> str:
    name = f"pydeploy-{uuid.uuid4().hex[:8]}"
    arm.resource_groups.create_or_update(name, {"location": "eastus"})
    return name


def test_begin_validate_lists_the_resources_to_deploy(deployments, group):
    result = deployments.deployments.begin_validate(group, "hub", body("hub")).result()
    assert result.error is None
    assert result.properties.provisioning_state == "Succeeded"
    ids = [r.id.lower() for r in result.properties.validated_resources]
    assert any(i.endswith("/serverlessendpoints/llama-chat") for i in ids), ids
    assert not any(i.endswith("/serverlessendpoints/optional") for i in ids), ids


def test_begin_what_if_before_deploying_is_all_create(deployments, group):
    result = deployments.deployments.begin_what_if(group, "hub", body("hub")).result()
    assert result.status == "Succeeded"
    assert len(result.changes) == 10, [c.resource_id for c in result.changes]
    assert {c.change_type for c in result.changes} == {"Create"}


def test_begin_create_or_update_then_operations_list(deployments, arm, group, subscription_id):
    deployment = deployments.deployments.begin_create_or_update(group, "hub", body("hub")).result()
    props = deployment.properties
    assert props.provisioning_state == "Succeeded", props.error
    endpoint_id = (
        f"/subscriptions/{subscription_id}/resourceGroups/{group}/providers/{ML}/proj-foundry/serverlessEndpoints/"
        "llama-chat"
    )
    endpoint = arm.resources.get_by_id(endpoint_id, api_version=EP_VERSION)
    uris = {e["name"]: e["uri"] for e in props.outputs["endpoints"]["value"]}
    assert uris["llama-chat"] == endpoint.properties["inferenceEndpoint"]["uri"]
    assert props.outputs["primaryKey"]["value"]
    operations = list(deployments.deployment_operations.list(group, "hub"))
    targets = {o.properties.target_resource.id.lower() for o in operations if o.properties.target_resource}
    assert endpoint_id.lower() in targets
    assert len(targets) == 10, targets
    assert {o.properties.provisioning_state for o in operations} == {"Succeeded"}
    shown = deployments.deployments.get(group, "hub")
    assert shown.properties.provisioning_state == "Succeeded"
    assert any(d.name == "hub" for d in deployments.deployments.list_by_resource_group(group))


def test_begin_what_if_after_deploying_shows_modify_and_no_change(deployments, group):
    deployments.deployments.begin_create_or_update(group, "hub", body("hub")).result()
    result = deployments.deployments.begin_what_if(group, "hub", body("hub", environment="prod")).result()
    change = {c.resource_id.lower().split("/providers/", 1)[1]: c for c in result.changes}
    hub = change[f"{ML.lower()}/hub-foundry"]
    assert hub.change_type == "Modify"
    paths = json.dumps([d.as_dict() for d in hub.delta])
    assert "environment" in paths and "prod" in paths, paths
    assert change[f"{ML.lower()}/proj-foundry/marketplacesubscriptions/llama-chat"].change_type == "NoChange"


def test_a_failing_resource_fails_the_deployment_with_its_own_error(deployments, group):
    poller = deployments.deployments.begin_create_or_update(
        group, "failing", {"properties": {"mode": "Incremental", "template": template("failing")}}
    )
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert "DeploymentFailed" in str(failed.value)
    shown = deployments.deployments.get(group, "failing")
    assert shown.properties.provisioning_state == "Failed"
    assert shown.properties.error.code == "DeploymentFailed"
    assert "InvalidRequestContent" in error_codes(shown.properties.error)
