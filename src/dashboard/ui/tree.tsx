import type { ComponentChildren } from 'preact';
import type { ArmResource, TreeNode, TreeResponse } from '../api.js';
import { modelName, shortType, str } from './format.js';
import { Badge } from './badge.js';
import { KeysCell, RevealedKeys, useKeys } from './keys.js';

const props = (r: ArmResource) => (r.properties ?? {}) as Record<string, unknown>;
const state = (r: ArmResource, field = 'provisioningState') => str(props(r)[field]);
const sub = (v: unknown, k: string) =>
  v && typeof v === 'object' ? str((v as Record<string, unknown>)[k]) : undefined;

interface TreeProps {
  tree: TreeResponse | undefined;
  version: number;
  chatWith: string | undefined;
  onChat(id: string): void;
}

export function ResourceTree({ tree, version, chatWith, onChat }: TreeProps) {
  if (!tree)
    return (
      <div class="card empty" data-testid="loading">
        Loading…
      </div>
    );
  if (!tree.subscriptions.length) {
    return (
      <div class="card empty" data-testid="empty">
        <h2>No resources yet</h2>
        <p>
          Create a resource group through the ARM API (the Azure SDK, Terraform, curl…); it shows up here as soon as it
          exists.
        </p>
      </div>
    );
  }
  return (
    <div class="tree">
      {tree.subscriptions.map((s) => (
        <div
          class="card subscription"
          key={s.subscriptionId}
          data-testid="subscription"
          data-subscription={s.subscriptionId}
        >
          <div class="node-head">
            <span class="kind">subscription</span>
            <span class="mono strong">{s.subscriptionId}</span>
          </div>
          <div class="children">
            {s.resourceGroups.map((rg) => (
              <ContainerNode key={rg.resource.id} node={rg} kind="resource group" ctx={{ version, chatWith, onChat }} />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

interface Ctx {
  version: number;
  chatWith: string | undefined;
  onChat(id: string): void;
}

/** A resource that holds others (resource group, workspace): a heading, then one block per child collection. */
function ContainerNode({ node, kind, ctx }: { node: TreeNode; kind: string; ctx: Ctx }) {
  const r = node.resource;
  return (
    <div class="node" data-testid="resource" data-key={r.id.toLowerCase()} data-type={r.type}>
      <div class="node-head">
        <span class="kind">{kind}</span>
        <span class="strong">{r.name}</span>
        {r.location && <span class="muted">{r.location}</span>}
        <span class="spacer" />
        <Badge state={state(r)} field="provisioningState" of={r.id} />
      </div>
      <div class="mono id" title={r.id}>
        {r.id}
      </div>
      <div class="children">
        {Object.entries(node.children).map(([collection, kids]) => (
          <Collection key={collection} collection={collection} nodes={kids} ctx={ctx} />
        ))}
      </div>
    </div>
  );
}

function Collection({ collection, nodes, ctx }: { collection: string; nodes: TreeNode[]; ctx: Ctx }) {
  switch (collection) {
    case 'workspaces':
      return (
        <>
          {nodes.map((n) => (
            <ContainerNode key={n.resource.id} node={n} kind="workspace" ctx={ctx} />
          ))}
        </>
      );
    case 'serverlessEndpoints':
      return <ServerlessEndpoints nodes={nodes} ctx={ctx} />;
    case 'inferencePools':
      return (
        <Section title="Inference pools" count={nodes.length}>
          {nodes.map((n) => (
            <Pool key={n.resource.id} node={n} />
          ))}
        </Section>
      );
    default:
      return <GenericTable title={collection} nodes={nodes} />;
  }
}

function Section({ title, count, children }: { title: string; count: number; children: ComponentChildren }) {
  return (
    <div class="section">
      <div class="section-title">
        {title} <span class="count">{count}</span>
      </div>
      {count ? children : <div class="none">none</div>}
    </div>
  );
}

function ServerlessEndpoints({ nodes, ctx }: { nodes: TreeNode[]; ctx: Ctx }) {
  return (
    <Section title="Serverless endpoints" count={nodes.length}>
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>name</th>
              <th>model</th>
              <th>auth</th>
              <th>provisioning</th>
              <th>endpoint</th>
              <th>keys</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map(({ resource: r }) => (
              <EndpointRow key={r.id} r={r} ctx={ctx} />
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

const ENDPOINT_COLUMNS = 7;

function EndpointRow({ r, ctx }: { r: ArmResource; ctx: Ctx }) {
  const p = props(r);
  const modelId = sub(p.modelSettings, 'modelId');
  const authMode = str(p.authMode) ?? 'Key';
  const uri = sub(p.inferenceEndpoint, 'uri');
  const usesKeys = authMode !== 'AAD';
  const ready = state(r) === 'Succeeded' && state(r, 'endpointState') === 'Online';
  const keys = useKeys(usesKeys ? r.id : undefined, ctx.version);
  const selected = ctx.chatWith?.toLowerCase() === r.id.toLowerCase();
  return (
    <>
      <tr
        data-testid="resource"
        data-key={r.id.toLowerCase()}
        data-type={r.type}
        class={`${selected ? 'selected' : ''} ${keys.full ? 'has-revealed' : ''}`}
      >
        <td>
          <div class="strong">{r.name}</div>
          {uri && (
            <div class="mono small muted uri" title="inference endpoint">
              {uri}
            </div>
          )}
        </td>
        <td class="mono small" title={modelId}>
          {modelName(modelId) ?? '—'}
        </td>
        <td>{authMode}</td>
        <td>
          <Badge state={state(r)} field="provisioningState" of={r.id} />
        </td>
        <td>
          <Badge state={state(r, 'endpointState')} field="endpointState" of={r.id} />
        </td>
        <td>{usesKeys ? <KeysCell id={r.id} keys={keys} /> : <span class="muted small">AAD tokens</span>}</td>
        <td>
          <button
            class="btn"
            data-testid="chat-open"
            disabled={!usesKeys}
            title={
              usesKeys
                ? ready
                  ? 'Send a test chat request'
                  : 'Not serving yet: the request will show why'
                : 'The dashboard sends keys; this endpoint takes AAD tokens only'
            }
            onClick={() => ctx.onChat(r.id)}
          >
            Chat
          </button>
        </td>
      </tr>
      {keys.full && (
        <tr class={`revealed-row ${selected ? 'selected' : ''}`}>
          <td colSpan={ENDPOINT_COLUMNS}>
            <RevealedKeys id={r.id} keys={keys.full} />
          </td>
        </tr>
      )}
    </>
  );
}

function Pool({ node }: { node: TreeNode }) {
  const r = node.resource;
  const groups = node.children.groups ?? [];
  const endpoints = node.children.endpoints ?? [];
  return (
    <div class="pool" data-testid="resource" data-key={r.id.toLowerCase()} data-type={r.type}>
      <div class="node-head">
        <span class="kind">pool</span>
        <span class="strong">{r.name}</span>
        {r.sku?.name && (
          <span class="muted">
            {r.sku.name}
            {r.sku.capacity !== undefined ? ` × ${r.sku.capacity}` : ''}
          </span>
        )}
        <span class="spacer" />
        <Badge state={state(r)} field="provisioningState" of={r.id} />
      </div>
      <div class="pool-body">
        <div class="subhead">
          groups <span class="count">{groups.length}</span>
        </div>
        {groups.length ? (
          <table class="grid">
            <thead>
              <tr>
                <th>name</th>
                <th>sku</th>
                <th>model</th>
                <th>provisioning</th>
              </tr>
            </thead>
            <tbody>
              {groups.map(({ resource: g }) => {
                const modelId = sub(props(g).modelConfiguration, 'modelId');
                return (
                  <tr key={g.id} data-testid="resource" data-key={g.id.toLowerCase()} data-type={g.type}>
                    <td class="strong">{g.name}</td>
                    <td class="mono small">
                      {g.sku?.name ?? '—'}
                      {g.sku?.capacity !== undefined ? ` × ${g.sku.capacity}` : ''}
                    </td>
                    <td class="mono small" title={modelId}>
                      {modelName(modelId) ?? '—'}
                    </td>
                    <td>
                      <Badge state={state(g)} field="provisioningState" of={g.id} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <div class="none">none</div>
        )}
        <div class="subhead">
          endpoints <span class="count">{endpoints.length}</span>
        </div>
        {endpoints.length ? (
          <table class="grid">
            <thead>
              <tr>
                <th>name</th>
                <th>group</th>
                <th>auth</th>
                <th>provisioning</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map(({ resource: e }) => (
                <tr key={e.id} data-testid="resource" data-key={e.id.toLowerCase()} data-type={e.type}>
                  <td>
                    <div class="strong">{e.name}</div>
                    {str(props(e).endpointUri) && <div class="mono small muted uri">{str(props(e).endpointUri)}</div>}
                  </td>
                  <td>{str(props(e).groupName) ?? '—'}</td>
                  <td>{str(props(e).authMode) ?? '—'}</td>
                  <td>
                    <Badge state={state(e)} field="provisioningState" of={e.id} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div class="none">none</div>
        )}
      </div>
    </div>
  );
}

/** Any other child collection: name, type and provisioning state. */
function GenericTable({ title, nodes }: { title: string; nodes: TreeNode[] }) {
  return (
    <Section title={title} count={nodes.length}>
      <table class="grid">
        <thead>
          <tr>
            <th>name</th>
            <th>type</th>
            <th>provisioning</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map(({ resource: r }) => (
            <tr key={r.id} data-testid="resource" data-key={r.id.toLowerCase()} data-type={r.type}>
              <td class="strong" title={r.id}>
                {r.name}
              </td>
              <td class="mono small">{shortType(r.type)}</td>
              <td>
                <Badge state={state(r)} field="provisioningState" of={r.id} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
