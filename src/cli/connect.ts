import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { rootCertificates } from 'node:tls';
import { dirname, join, resolve } from 'node:path';
import { devToken } from '../auth/bearer.js';
import { tenantIdOf } from '../auth/issuer.js';
import { UsageError } from '../control/cli.js';

export const CONNECT_TOOLS = ['node', 'python', 'curl', 'az', 'terraform'] as const;
export type ConnectTool = (typeof CONNECT_TOOLS)[number];

export const CONNECT_USAGE = `usage: amlite connect TOOL [--url URL] [--cacert FILE | --data-dir DIR]
                              [--tenant ID] [--subscription ID]
Prints the setup (environment, endpoint, credential) that points TOOL at the running amlite, for its auth mode.
tools:
  node      NODE_EXTRA_CA_CERTS, the endpoint and a credential for the Azure SDK for JavaScript (@azure/arm-resources)
  python    REQUESTS_CA_BUNDLE / SSL_CERT_FILE (a bundle of the system's CAs and amlite's certificate, written next to
            the certificate), base_url, credential_scopes and a credential for the Azure SDK for Python
  curl      a token and curl commands
  az        the Azure CLI: a CA bundle, az cloud register (every endpoint), az cloud set, az login
            --service-principal against amlite's /adfs issuer, and how to switch back to AzureCloud
  terraform the azapi provider's settings (endpoint, audience, a client secret against amlite's issuer) and
            SSL_CERT_FILE; untested: the azapi provider cannot be built where amlite's tests run
--url defaults to AMLITE_URL or https://127.0.0.1:8443; the certificate to --cacert, AMLITE_CACERT, or cert.pem in
--data-dir (default AMLITE_DATA_DIR or .amlite); --tenant and --subscription default to
00000000-0000-0000-0000-000000000001.`;

const DEFAULT_ID = '00000000-0000-0000-0000-000000000001';
/** The client id the strict-mode recipes use (any id works; the issuer puts it in the token's appid). */
const CLIENT_ID = '0a11ce00-0000-4000-8000-000000000001';
const RG_API = '2025-04-01';
/** How long the probe of the running server may take. */
export const CONNECT_PROBE_TIMEOUT_MS = 5000;

/** Where Linux distributions and macOS package managers keep the system's CA bundle. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
  '/opt/homebrew/etc/openssl@3/cert.pem',
  '/usr/local/etc/openssl@3/cert.pem',
];

export interface Target {
  url: string;
  cacert?: string;
  auth: 'loose' | 'strict';
  tenant: string;
  subscription: string;
}

/** `amlite connect …`: probes the server at --url, then prints the recipe for the tool. */
export async function connectCli(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const opts: Record<string, string> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return CONNECT_USAGE;
    const m = /^--(url|cacert|data-dir|tenant|subscription)(?:=(.*))?$/.exec(argv[i]);
    if (m) opts[m[1]] = m[2] ?? argv[++i] ?? '';
    else if (argv[i].startsWith('--')) throw new UsageError(`unknown connect option '${argv[i]}'`);
    else args.push(argv[i]);
  }
  const tool = args[0] as ConnectTool | undefined;
  if (!tool) throw new UsageError(`name a tool: ${CONNECT_TOOLS.join(', ')}`);
  if (!CONNECT_TOOLS.includes(tool))
    throw new UsageError(`unknown tool '${tool}': amlite connect knows ${CONNECT_TOOLS.join(', ')}`);
  const url = (opts.url || env.AMLITE_URL || 'https://127.0.0.1:8443').replace(/\/+$/, '');
  const dataDir = resolve(opts['data-dir'] || env.AMLITE_DATA_DIR || '.amlite');
  const certFile = opts.cacert || env.AMLITE_CACERT || join(dataDir, 'cert.pem');
  const cacert = url.startsWith('https:') ? resolve(certFile) : undefined;
  if (cacert && !existsSync(cacert))
    throw new Error(`no certificate at ${cacert}: pass the server's --data-dir (or --cacert FILE, AMLITE_CACERT)`);
  const auth = await probeAuth(url, cacert);
  const tenant = opts.tenant || DEFAULT_ID;
  const target: Target = { url, cacert, auth, tenant, subscription: opts.subscription || DEFAULT_ID };
  switch (tool) {
    case 'node':
      return nodeRecipe(target);
    case 'python':
      return pythonRecipe(target, cacert ? writeBundle(cacert) : undefined);
    case 'curl':
      return curlRecipe(target);
    case 'az':
      return azRecipe(target, cacert ? writeBundle(cacert) : undefined);
    case 'terraform':
      return terraformRecipe(target, cacert ? writeBundle(cacert) : undefined);
  }
}

/** Loose (or none) when a development token is taken, strict when it is refused as unsigned. */
async function probeAuth(url: string, cacert: string | undefined): Promise<'loose' | 'strict'> {
  const target = new URL(`/subscriptions/${DEFAULT_ID}/resourcegroups?api-version=${RG_API}`, `${url}/`);
  const ca = cacert ? readFileSync(cacert) : undefined;
  const status = await new Promise<number>((res, rej) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { authorization: `Bearer ${devToken()}` };
    const req = send(target, { headers, ca, timeout: CONNECT_PROBE_TIMEOUT_MS }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CONNECT_PROBE_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const tlsProblem = /certificate|self.signed|CERT|SSL/i.test(`${e.code} ${e.message}`);
      rej(
        new Error(
          tlsProblem
            ? `amlite at ${url} does not present the certificate ${cacert} (${e.message}): ` +
                "pass the server's --data-dir or --cacert FILE"
            : `cannot reach amlite at ${url} (${e.message}): start it (amlite), or point --url / AMLITE_URL at it`,
        ),
      );
    });
    req.end();
  });
  if (status === 401) return 'strict';
  if (status >= 200 && status < 300) return 'loose';
  throw new Error(`${url} answered ${status} to a resource-group list: is it amlite? (point --url / AMLITE_URL at it)`);
}

/** The system's CA bundle (or certifi's, or Node's own roots) followed by amlite's certificate, next to the latter. */
export function writeBundle(cacert: string): string {
  const system = systemBundle();
  const path = join(dirname(cacert), 'ca-bundle.pem');
  const text = `${system.trimEnd()}\n# amlite: ${cacert}\n${readFileSync(cacert, 'utf8').trim()}\n`;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return path;
}

function systemBundle(): string {
  const file = SYSTEM_BUNDLES.find((f) => existsSync(f));
  if (file) return readFileSync(file, 'utf8');
  const where = 'import certifi; print(certifi.where())';
  const certifi = spawnSync('python3', ['-c', where], { encoding: 'utf8', timeout: 5000 });
  const found = certifi.status === 0 ? certifi.stdout.trim() : '';
  if (found && existsSync(found)) return readFileSync(found, 'utf8');
  return rootCertificates.join('\n');
}

const q = (s: string) => `"${s.replace(/(["\\$`])/g, '\\$1')}"`;

function header(t: Target, tool: string): string {
  return `# ${tool} → amlite at ${t.url} (auth: ${t.auth}), subscription ${t.subscription}, tenant ${t.tenant}`;
}

export function nodeRecipe(t: Target): string {
  const strict = t.auth === 'strict';
  const imports = [
    "import { ResourceManagementClient } from '@azure/arm-resources';",
    ...(strict ? ["import { ClientSecretCredential } from '@azure/identity';"] : []),
  ];
  const credential = strict
    ? `// Strict auth: tokens from amlite's own token issuer (any client id; the secret is --issuer-secret when set).
const clientId = '${CLIENT_ID}';
const clientSecret = process.env.AMLITE_ISSUER_SECRET ?? 'any-secret';
const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, {
  authorityHost: endpoint,
  disableInstanceDiscovery: true, // otherwise MSAL asks login.microsoftonline.com first (and fails offline)
});`
    : `// Loose auth: any unexpired JWT-shaped token; its claims fill systemData, its audience follows the scope asked.
const credential = {
  async getToken(scopes) {
    const scope = [scopes].flat()[0] ?? 'https://management.azure.com/.default';
    const now = Math.floor(Date.now() / 1000);
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { aud: scope.replace(/\\/\\.default$/, ''), iat: now, nbf: now, exp: now + 3600, tid: tenantId,
      oid: '11111111-1111-1111-1111-111111111111', upn: 'developer@amlite.local' };
    const token = \`\${enc({ alg: 'none', typ: 'JWT' })}.\${enc(claims)}.\`;
    return { token, expiresOnTimestamp: (now + 3600) * 1000 };
  },
};`;
  return [
    header(t, 'Node.js (Azure SDK for JavaScript)'),
    ...(t.cacert ? [`export NODE_EXTRA_CA_CERTS=${q(t.cacert)}`] : []),
    `export AMLITE_URL=${q(t.url)}`,
    '',
    `# app.mjs: npm install @azure/arm-resources${strict ? ' @azure/identity' : ''}, then: node app.mjs`,
    ...imports,
    '',
    `const endpoint = process.env.AMLITE_URL ?? '${t.url}';`,
    `const subscriptionId = '${t.subscription}';`,
    `const tenantId = '${t.tenant}';`,
    credential,
    '// endpoint: @azure/arm-resources v8; $host: v7.',
    'const client = new ResourceManagementClient(credential, subscriptionId, { endpoint, $host: endpoint });',
    "const group = await client.resourceGroups.createOrUpdate('my-rg', { location: 'eastus' });",
    'console.log(group.id);',
  ].join('\n');
}

export function pythonRecipe(t: Target, bundle: string | undefined): string {
  const credential =
    t.auth === 'strict'
      ? `from azure.identity import ClientSecretCredential

# Strict auth: tokens from amlite's own token issuer (any client id; the secret is --issuer-secret when set).
# azure-identity 1.15 betas and older spell disable_instance_discovery=True as instance_discovery=False.
client_id = "${CLIENT_ID}"
client_secret = os.environ.get("AMLITE_ISSUER_SECRET", "any-secret")
credential = ClientSecretCredential(tenant_id, client_id, client_secret, authority=endpoint,
                                    disable_instance_discovery=True)`
      : `from azure.core.credentials import AccessToken


class AmliteCredential:
    """Loose auth: any unexpired JWT-shaped token; its claims fill systemData, its audience follows the scope."""

    def get_token(self, *scopes, **kwargs):
        scope = scopes[0] if scopes else "https://management.azure.com/.default"
        now = int(time.time())
        enc = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
        claims = {"aud": scope.removesuffix("/.default"), "iat": now, "nbf": now, "exp": now + 3600, "tid": tenant_id,
                  "oid": "11111111-1111-1111-1111-111111111111", "upn": "developer@amlite.local"}
        return AccessToken(f'{enc({"alg": "none", "typ": "JWT"})}.{enc(claims)}.', now + 3600)


credential = AmliteCredential()`;
  return [
    header(t, 'Python (Azure SDK for Python)'),
    ...(bundle ? [`export REQUESTS_CA_BUNDLE=${q(bundle)}`, `export SSL_CERT_FILE=${q(bundle)}`] : []),
    `export AMLITE_URL=${q(t.url)}`,
    '',
    `# app.py: pip install azure-mgmt-resource${t.auth === 'strict' ? ' azure-identity' : ''}, then: python app.py`,
    `import base64, json, os, time

from azure.mgmt.resource.resources import ResourceManagementClient

endpoint = os.environ.get("AMLITE_URL", "${t.url}")
subscription_id = "${t.subscription}"
tenant_id = "${t.tenant}"
${credential}
client = ResourceManagementClient(credential, subscription_id, base_url=endpoint,
                                  credential_scopes=["https://management.azure.com/.default"])
group = client.resource_groups.create_or_update("my-rg", {"location": "eastus"})
print(group.id)`,
  ].join('\n');
}

export function curlRecipe(t: Target): string {
  const tls = t.cacert ? '--cacert "$AMLITE_CACERT" ' : '';
  const token =
    t.auth === 'strict'
      ? [
          `# Strict auth: a token from amlite's token issuer (the secret is --issuer-secret when the server has one)`,
          `TOKEN=$(curl -sS --fail-with-body ${tls}-d grant_type=client_credentials -d client_id=${CLIENT_ID} \\
  -d "client_secret=\${AMLITE_ISSUER_SECRET:-any-secret}" -d scope=https://management.azure.com/.default \\
  "$AMLITE_URL/$TENANT_ID/oauth2/v2.0/token" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
        ]
      : [
          '# Loose auth: a development token (amlite token --help: audience, tenant, user or app, lifetime)',
          'TOKEN=$(amlite token --tenant "$TENANT_ID")',
        ];
  const mlToken =
    t.auth === 'strict'
      ? `ML_TOKEN=$(curl -sS --fail-with-body ${tls}-d grant_type=client_credentials -d client_id=${CLIENT_ID} \\
  -d "client_secret=\${AMLITE_ISSUER_SECRET:-any-secret}" -d scope=https://ml.azure.com/.default \\
  "$AMLITE_URL/$TENANT_ID/oauth2/v2.0/token" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`
      : 'ML_TOKEN=$(amlite token --tenant "$TENANT_ID" --audience https://ml.azure.com)';
  return [
    header(t, 'curl'),
    `export AMLITE_URL=${q(t.url)}`,
    ...(t.cacert ? [`export AMLITE_CACERT=${q(t.cacert)}`] : []),
    `SUBSCRIPTION_ID=${t.subscription}`,
    `TENANT_ID=${t.tenant}`,
    ...token,
    `curl -sS --fail-with-body ${tls}-X PUT -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -d '{"location":"eastus"}' "$AMLITE_URL/subscriptions/$SUBSCRIPTION_ID/resourcegroups/my-rg?api-version=${RG_API}"`,
    `curl -sS --fail-with-body ${tls}-H "Authorization: Bearer $TOKEN" \\
  "$AMLITE_URL/subscriptions/$SUBSCRIPTION_ID/resourcegroups?api-version=${RG_API}"`,
    '# The data plane of pool endpoints and AAD serverless endpoints takes a token for https://ml.azure.com:',
    mlToken,
  ].join('\n');
}

/** The tenant of tokens from amlite's `/adfs` issuer: ADFS authorities name no tenant. */
export const ADFS_TENANT = tenantIdOf('adfs');

/**
 * The Azure CLI: a cloud whose login endpoint is amlite's issuer under `/adfs` (MSAL skips its instance discovery,
 * a call to login.microsoftonline.com, only for such authorities before CLI 2.54), every other endpoint given so the
 * CLI reads no metadata, and a service-principal login (any client id; the secret is --issuer-secret when set).
 */
export function azRecipe(t: Target, bundle: string | undefined): string {
  return [
    `# Azure CLI → amlite at ${t.url} (auth: ${t.auth}), subscription ${t.subscription}, tenant ${ADFS_TENANT}`,
    '# (the tenant of tokens from the /adfs issuer, whatever --tenant says: an ADFS authority names no tenant)',
    ...(bundle
      ? [
          "# REQUESTS_CA_BUNDLE replaces the CA list: this bundle is the system's CAs plus amlite's certificate.",
          `export REQUESTS_CA_BUNDLE=${q(bundle)}`,
        ]
      : []),
    `export AMLITE_URL=${q(t.url)}`,
    '# Registering again replaces the cloud (switch away from it first).',
    'az cloud set --name AzureCloud >/dev/null 2>&1 || true',
    'az cloud unregister --name amlite >/dev/null 2>&1 || true',
    `az cloud register --name amlite \\
  --endpoint-resource-manager "$AMLITE_URL/" \\
  --endpoint-active-directory "$AMLITE_URL/adfs" \\
  --endpoint-active-directory-resource-id https://management.core.windows.net/ \\
  --endpoint-management https://management.core.windows.net/ \\
  --endpoint-active-directory-graph-resource-id https://graph.windows.net/ \\
  --endpoint-active-directory-data-lake-resource-id https://datalake.azure.net/ \\
  --endpoint-gallery https://gallery.azure.com/ \\
  --endpoint-sql-management https://management.core.windows.net:8443/ \\
  --endpoint-vm-image-alias-doc ${VM_ALIAS_DOC} \\
  --suffix-storage-endpoint core.windows.net \\
  --suffix-keyvault-dns .vault.azure.net \\
  --suffix-sql-server-hostname .database.windows.net \\
  --suffix-acr-login-server-endpoint .azurecr.io \\
  --suffix-azure-datalake-store-file-system-endpoint azuredatalakestore.net \\
  --suffix-azure-datalake-analytics-catalog-and-job-endpoint azuredatalakeanalytics.net`,
    'az cloud set --name amlite',
    `az login --service-principal --username ${CLIENT_ID} --password "\${AMLITE_ISSUER_SECRET:-any-secret}" \\
  --tenant ${ADFS_TENANT} --output none`,
    `az account set --subscription ${t.subscription}`,
    '# Then, e.g.: az group create -n my-rg -l eastus; az resource list -g my-rg',
    "# CLI 2.54 and later may use the issuer's root instead of /adfs after: az config set core.instance_discovery=false",
    '# Back to Azure: az cloud set --name AzureCloud && az login   (remove: az cloud unregister --name amlite)',
  ].join('\n');
}

/**
 * Terraform's azapi provider (Go: SSL_CERT_FILE adds amlite's certificate; the ARM_* variables are the provider's
 * own): every endpoint and the token audience at amlite, no instance discovery, no provider registration. Untested:
 * the Go module proxy amlite's tests can reach does not serve the provider's module.
 */
export function terraformRecipe(t: Target, bundle: string | undefined): string {
  return [
    `# Terraform (azapi) → amlite at ${t.url} (auth: ${t.auth}), subscription ${t.subscription}, tenant ${t.tenant}`,
    "# UNTESTED: amlite's tests cannot build the azapi provider; these are the provider's documented settings.",
    ...(bundle
      ? ["# Go reads SSL_CERT_FILE: the system's CAs plus amlite's certificate.", `export SSL_CERT_FILE=${q(bundle)}`]
      : []),
    `export ARM_TENANT_ID=${t.tenant} ARM_SUBSCRIPTION_ID=${t.subscription} ARM_CLIENT_ID=${CLIENT_ID}`,
    'export ARM_CLIENT_SECRET="${AMLITE_ISSUER_SECRET:-any-secret}"',
    `cat > amlite_provider.tf <<'EOF'
terraform {
  required_providers {
    azapi = { source = "Azure/azapi", version = "~> 2.0" }
  }
}

provider "azapi" {
  disable_instance_discovery = true
  skip_provider_registration = true
  endpoint = [{
    resource_manager_endpoint       = "${t.url}/"
    active_directory_authority_host = "${t.url}/"
    resource_manager_audience       = "${t.url}/"
  }]
}
EOF`,
    '# Then, e.g.: azapi_resource "ep" { type = "Microsoft.MachineLearningServices/workspaces/serverlessEndpoints@2024-10-01" … }',
  ].join('\n');
}

const VM_ALIAS_DOC =
  'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json';
