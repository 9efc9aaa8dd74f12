"""Fixtures for the Python client suite: a running amlite, named by environment variables.

test/python-clients.test.ts starts a strict-auth amlite and runs `python -m pytest test/python` with
AMLITE_URL, the issuer credentials (AMLITE_TENANT_ID, AMLITE_CLIENT_ID, AMLITE_CLIENT_SECRET), AMLITE_SUBSCRIPTION_ID
and REQUESTS_CA_BUNDLE / SSL_CERT_FILE naming the server's certificate. Without AMLITE_URL every test skips.
"""

import os
import uuid

import pytest

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
MODEL_ID = "azureml://registries/azureml-meta/models/Llama-2-7b-chat"
RG_API_VERSION = "2025-04-01"
# The workspace kinds need a version that knows Hub / Project (hubResourceId).
HUB_API_VERSION = "2024-10-01-preview"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("AMLITE_URL"):
        return
    skip = pytest.mark.skip(reason="AMLITE_URL is not set: run through test/python-clients.test.ts")
    for item in items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def url() -> str:
    return os.environ["AMLITE_URL"].rstrip("/")


@pytest.fixture(scope="session")
def subscription_id() -> str:
    return os.environ.get("AMLITE_SUBSCRIPTION_ID", "00000000-0000-0000-0000-000000000001")


@pytest.fixture(scope="session")
def credential(url):
    from azure.identity import ClientSecretCredential

    # Without disable_instance_discovery MSAL first asks login.microsoftonline.com about the authority.
    return ClientSecretCredential(
        os.environ.get("AMLITE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
        os.environ.get("AMLITE_CLIENT_ID", "0a11ce00-0000-4000-8000-000000000001"),
        os.environ.get("AMLITE_CLIENT_SECRET", "any-secret"),
        authority=url,
        disable_instance_discovery=True,
    )


@pytest.fixture(scope="session")
def arm(credential, url, subscription_id):
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(credential, subscription_id, base_url=url, credential_scopes=[MANAGEMENT_SCOPE])


@pytest.fixture(scope="session")
def resource_group(arm) -> str:
    name = f"pyclients-{uuid.uuid4().hex[:8]}"
    arm.resource_groups.create_or_update(name, {"location": "eastus"})
    return name


@pytest.fixture(scope="session")
def rg_id(subscription_id, resource_group) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def workspace_id(rg_id: str, name: str) -> str:
    return f"{rg_id}/providers/Microsoft.MachineLearningServices/workspaces/{name}"


@pytest.fixture(scope="session")
def hub(arm, rg_id):
    """A Hub, created with azure-mgmt-resource's generic resources (MLClient would deploy an ARM template)."""
    body = {"location": "eastus", "kind": "Hub", "properties": {"friendlyName": "Python hub"}}
    hub_id = workspace_id(rg_id, "py-hub")
    return arm.resources.begin_create_or_update_by_id(hub_id, body, api_version=HUB_API_VERSION).result()


@pytest.fixture(scope="session")
def project(arm, rg_id, hub):
    body = {"location": "eastus", "kind": "Project", "properties": {"hubResourceId": hub.id}}
    project_id = workspace_id(rg_id, "py-project")
    return arm.resources.begin_create_or_update_by_id(project_id, body, api_version=HUB_API_VERSION).result()


@pytest.fixture(scope="session")
def ml_factory(credential, url, subscription_id, resource_group):
    """MLClient for a workspace, pointed at amlite the way sovereign clouds are: `cloud` + `cloud_metadata`."""
    from azure.ai.ml import MLClient

    metadata = {
        "azure_portal": url + "/",
        "resource_manager": url + "/",
        "active_directory": url + "/",
        "aml_resource_id": "https://ml.azure.com/",
        "storage_endpoint": "core.windows.net",
        "registry_discovery_endpoint": url + "/",
    }

    def make(workspace_name=None):
        return MLClient(
            credential,
            subscription_id,
            resource_group,
            workspace_name,
            cloud="amlite",
            cloud_metadata=metadata,
            enable_telemetry=False,
            show_progress=False,
        )

    return make
