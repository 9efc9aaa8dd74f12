"""The Python clients Azure ML users run, unchanged, against a strict-auth amlite (issue 15 §3).

Each client is pinned in requirements.txt. Fixtures (conftest.py) give the issuer credential, the ARM client, a
resource group, a Hub and a Project.
"""

import base64
import json
import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest

from conftest import MANAGEMENT_SCOPE, MODEL_ID, workspace_id


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def endpoint_body(**properties) -> dict:
    return {
        "location": "eastus",
        "sku": {"name": "Consumption"},
        "properties": {"authMode": "Key", "modelSettings": {"modelId": MODEL_ID}, **properties},
    }


def create_workspace(client, ws: str):
    body = {"location": "eastus", "properties": {}}
    return client.resources.begin_create_or_update_by_id(ws, body, api_version="2025-09-01").result()


class Recorder(SansIOHTTPPolicy):
    """Records each response's method, URL, status and Retry-After (a per-call policy of the client)."""

    def __init__(self):
        self.seen = []

    def on_response(self, request, response):
        http = response.http_response
        self.seen.append((request.http_request.method, request.http_request.url, http.status_code,
                          http.headers.get("retry-after")))


# ---- azure-identity -------------------------------------------------------------------------------


def test_client_secret_credential_gets_tokens_from_the_strict_issuer(credential, url):
    management = credential.get_token(MANAGEMENT_SCOPE)
    assert management.expires_on > time.time()
    assert claims(management.token)["aud"].rstrip("/") == "https://management.azure.com"
    assert claims(management.token)["iss"].startswith(url)
    ml = credential.get_token("https://ml.azure.com/.default")
    assert claims(ml.token)["aud"].rstrip("/") == "https://ml.azure.com"


# ---- azure-mgmt-resource: generic resources at several api-versions ---------------------------------


@pytest.mark.parametrize("api_version", ["2024-04-01", "2024-10-01", "2025-09-01", "2026-03-15-preview"])
def test_generic_resources_at_several_api_versions(arm, rg_id, api_version):
    ws = workspace_id(rg_id, f"py-generic-{api_version.replace('-', '')}")
    create_workspace(arm, ws)
    eid = f"{ws}/serverlessEndpoints/llama"
    created = arm.resources.begin_create_or_update_by_id(eid, endpoint_body(), api_version=api_version).result()
    assert created.properties["provisioningState"] == "Succeeded"
    assert created.properties["inferenceEndpoint"]["uri"].startswith("https://")
    assert arm.resources.check_existence_by_id(eid, api_version=api_version)
    updated = arm.resources.begin_update_by_id(eid, {"tags": {"v": api_version}}, api_version=api_version)
    updated = updated.result()
    assert updated.tags == {"v": api_version}
    assert arm.resources.get_by_id(eid, api_version=api_version).tags == {"v": api_version}
    listed = [r.id for r in arm.resources.list_by_resource_group(rg_id.split("/")[-1])]
    assert any(r.lower() == eid.lower() for r in listed)
    arm.resources.begin_delete_by_id(eid, api_version=api_version).result()
    assert not arm.resources.check_existence_by_id(eid, api_version=api_version)


def test_a_held_operation_costs_the_python_poller_seconds_not_30(credential, url, rg_id, subscription_id):
    """Retry-After on the poll answers: azure-core waits 30 s between polls when it is absent."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    recorder = Recorder()
    client = ResourceManagementClient(credential, subscription_id, base_url=url, credential_scopes=[MANAGEMENT_SCOPE],
                                      per_call_policies=[recorder])
    ws = workspace_id(rg_id, "py-held")
    create_workspace(client, ws)
    match = {"resourceType": "serverlessEndpoints", "subscription": subscription_id}
    rule = {"kind": "delay", "duration": "PT3S", "count": 1, "match": match}
    added = client.send_request(HttpRequest("POST", "/_amlite/rules", json=rule))  # the client's own pipeline
    assert added.status_code == 201, added.text()
    started = time.monotonic()
    poller = client.resources.begin_create_or_update_by_id(
        f"{ws}/serverlessEndpoints/held", endpoint_body(), api_version="2025-09-01"
    )
    done = poller.result()
    elapsed = time.monotonic() - started
    assert done.properties["provisioningState"] == "Succeeded"
    running = [s for s in recorder.seen if "mfeOperationsStatus" in s[1] and s[3] is not None]
    assert running, f"no status answer carried Retry-After: {recorder.seen}"
    assert all(int(s[3]) >= 1 for s in running)
    assert elapsed < 20, f"create took {elapsed:.1f} s (Python waits 30 s per poll without Retry-After)"


# ---- azure-ai-ml: MLClient ---------------------------------------------------------------------------


def test_mlclient_workspaces_hub_and_project(ml_factory, hub, project):
    from azure.ai.ml.entities import Hub, Project

    ml = ml_factory()
    got_hub = ml.workspaces.get("py-hub")
    assert isinstance(got_hub, Hub), type(got_hub)
    got_project = ml.workspaces.get("py-project")
    assert isinstance(got_project, Project), type(got_project)
    assert got_project.hub_id.lower() == hub.id.lower()
    names = {w.name for w in ml.workspaces.list(scope="resource_group")}
    assert {"py-hub", "py-project"} <= names
    got_hub.description = "updated by azure-ai-ml"
    updated = ml.workspaces.begin_update(got_hub).result()
    assert updated.description == "updated by azure-ai-ml"


def test_mlclient_workspace_create_and_delete(ml_factory):
    """MLClient.workspaces.begin_create deploys an ARM template (Microsoft.Resources/deployments)."""
    from azure.ai.ml.entities import Workspace

    ml = ml_factory()
    try:
        ws = ml.workspaces.begin_create(Workspace(name="py-mlclient-ws", location="eastus")).result()
    except HttpResponseError as err:
        if err.status_code in (400, 404) and "deployments" in str(err).lower():
            first_line = err.message.splitlines()[0]
            pytest.skip(f"amlite serves no Microsoft.Resources/deployments (issue 17): {first_line}")
        raise
    assert ws.name == "py-mlclient-ws"
    ml.workspaces.begin_delete("py-mlclient-ws", delete_dependent_resources=False).result()
    with pytest.raises(ResourceNotFoundError):
        ml.workspaces.get("py-mlclient-ws")


def regenerate_secondary(ml, name: str):
    """MLClient.serverless_endpoints.begin_regenerate_keys; every azure-ai-ml release that has it passes
    `endpoint_name=` to a generated method whose parameter is `name`, so it raises TypeError before sending anything.
    Then the same request goes through MLClient's own generated client, as the method meant to send it."""
    try:
        return ml.serverless_endpoints.begin_regenerate_keys(name, key_type="secondary").result()
    except TypeError as err:
        if "'name'" not in str(err):
            raise
    from azure.ai.ml._restclient.arm_ml_service.models import KeyType, RegenerateEndpointKeysRequest
    from azure.ai.ml.entities._endpoint.online_endpoint import EndpointAuthKeys

    ops = ml.serverless_endpoints
    current = ops.get_keys(name)
    body = RegenerateEndpointKeysRequest(key_type=KeyType.SECONDARY, key_value=current.secondary_key)
    poller = ops._service_client.begin_regenerate_keys(ops._resource_group_name, ops._workspace_name, name, body)
    return EndpointAuthKeys._from_rest_object(poller.result())


def test_mlclient_serverless_endpoints_lifecycle(ml_factory, project):
    from azure.ai.ml.entities import ServerlessEndpoint

    ml = ml_factory("py-project")
    created = ml.serverless_endpoints.begin_create_or_update(
        ServerlessEndpoint(name="py-llama", model_id=MODEL_ID)
    ).result()
    assert created.name == "py-llama"
    assert created.provisioning_state == "succeeded"
    assert created.scoring_uri.startswith("https://")
    assert created.location == "eastus"  # taken from the workspace
    got = ml.serverless_endpoints.get("py-llama")
    assert got.model_id == MODEL_ID and got.auth_mode == "Key"
    assert "py-llama" in {e.name for e in ml.serverless_endpoints.list()}
    keys = ml.serverless_endpoints.get_keys("py-llama")
    assert keys.primary_key and keys.secondary_key and keys.primary_key != keys.secondary_key
    regenerated = regenerate_secondary(ml, "py-llama")
    # azure-ai-ml sends the current key as keyValue: the primary stays, the secondary is set as asked.
    assert regenerated.primary_key == keys.primary_key and regenerated.secondary_key
    ml.serverless_endpoints.begin_delete("py-llama").result()
    with pytest.raises(ResourceNotFoundError):
        ml.serverless_endpoints.get("py-llama")


def test_mlclient_marketplace_subscriptions(ml_factory, project):
    from azure.ai.ml.entities import MarketplaceSubscription

    ml = ml_factory("py-project")
    created = ml.marketplace_subscriptions.begin_create_or_update(
        MarketplaceSubscription(name="meta-llama", model_id=MODEL_ID)
    ).result()
    assert created.name == "meta-llama" and created.model_id == MODEL_ID
    assert created.status == "subscribed"
    assert created.marketplace_plan.publisher_id and created.marketplace_plan.offer_id
    assert ml.marketplace_subscriptions.get("meta-llama").id.lower() == created.id.lower()
    assert "meta-llama" in {s.name for s in ml.marketplace_subscriptions.list()}
    ml.marketplace_subscriptions.begin_delete("meta-llama").result()
    with pytest.raises(ResourceNotFoundError):
        ml.marketplace_subscriptions.get("meta-llama")


# ---- azure-mgmt-machinelearningservices ---------------------------------------------------------------


def test_mgmt_machinelearningservices_workspaces_and_connections(credential, url, subscription_id, resource_group):
    """At the client's default api-version (2023-04-01)."""
    from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
    from azure.mgmt.machinelearningservices.models import (
        PATAuthTypeWorkspaceConnectionProperties,
        Workspace,
        WorkspaceConnectionPersonalAccessToken,
        WorkspaceConnectionPropertiesV2BasicResource,
    )

    client = MachineLearningServicesMgmtClient(credential, subscription_id, base_url=url,
                                               credential_scopes=[MANAGEMENT_SCOPE])
    assert client._config.api_version == "2023-04-01"
    created = client.workspaces.begin_create_or_update(
        resource_group, "py-mgmt-ws", Workspace(location="eastus", friendly_name="mgmt")
    ).result()
    assert created.name == "py-mgmt-ws" and created.friendly_name == "mgmt"
    assert client.workspaces.get(resource_group, "py-mgmt-ws").id.lower() == created.id.lower()
    assert "py-mgmt-ws" in {w.name for w in client.workspaces.list_by_resource_group(resource_group)}
    assert "py-mgmt-ws" in {w.name for w in client.workspaces.list_by_subscription()}
    # Its workspace connections: credentials are write-only (never in GET or LIST).
    properties = PATAuthTypeWorkspaceConnectionProperties(
        category="Git", target="https://github.com/contoso/repo",
        credentials=WorkspaceConnectionPersonalAccessToken(pat="secret-pat"),
    )
    conn = client.workspace_connections.create(
        resource_group, "py-mgmt-ws", "py-git", WorkspaceConnectionPropertiesV2BasicResource(properties=properties)
    )
    assert conn.properties.auth_type == "PAT" and conn.properties.target == "https://github.com/contoso/repo"
    got = client.workspace_connections.get(resource_group, "py-mgmt-ws", "py-git")
    assert got.properties.category == "Git" and getattr(got.properties.credentials, "pat", None) is None
    assert "py-git" in {c.name for c in client.workspace_connections.list(resource_group, "py-mgmt-ws")}
    client.workspace_connections.delete(resource_group, "py-mgmt-ws", "py-git")
    with pytest.raises(ResourceNotFoundError):
        client.workspace_connections.get(resource_group, "py-mgmt-ws", "py-git")
    client.workspaces.begin_delete(resource_group, "py-mgmt-ws").result()
    with pytest.raises(ResourceNotFoundError):
        client.workspaces.get(resource_group, "py-mgmt-ws")


# ---- the data plane: azure-ai-inference and openai against inferenceEndpoint.uri --------------------------


@pytest.fixture(scope="module")
def chat_endpoint(arm, rg_id, project):
    eid = f"{workspace_id(rg_id, 'py-project')}/serverlessEndpoints/py-chat"
    ep = arm.resources.begin_create_or_update_by_id(eid, endpoint_body(), api_version="2025-09-01").result()
    res = arm.send_request(HttpRequest("POST", f"{eid}/listKeys?api-version=2025-09-01"))
    res.raise_for_status()
    return ep.properties["inferenceEndpoint"]["uri"], res.json()["primaryKey"]


def test_azure_ai_inference_chat_completions(chat_endpoint):
    from azure.ai.inference import ChatCompletionsClient
    from azure.ai.inference.models import UserMessage
    from azure.core.credentials import AzureKeyCredential

    uri, key = chat_endpoint
    client = ChatCompletionsClient(endpoint=uri, credential=AzureKeyCredential(key))
    answer = client.complete(messages=[UserMessage(content="Say hello")], max_tokens=16)
    assert answer.choices[0].message.content
    assert answer.usage.total_tokens > 0
    streamed = "".join(
        u.choices[0].delta.content or ""
        for u in client.complete(messages=[UserMessage(content="Say hello")], max_tokens=16, stream=True)
        if u.choices
    )
    assert streamed


def test_openai_chat_completions(chat_endpoint):
    from openai import AuthenticationError, OpenAI

    uri, key = chat_endpoint
    answer = OpenAI(base_url=uri, api_key=key, max_retries=0).chat.completions.create(
        model="Llama-2-7b-chat", messages=[{"role": "user", "content": "Say hello"}], max_tokens=16
    )
    assert answer.choices[0].message.content
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=uri, api_key=uuid.uuid4().hex, max_retries=0).chat.completions.create(
            model="Llama-2-7b-chat", messages=[{"role": "user", "content": "Hi"}]
        )
