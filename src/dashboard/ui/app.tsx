import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { API_BASE, type ArmResource, type OperationView, type TreeResponse } from '../api.js';
import { api } from './client.js';
import { clock } from './format.js';
import { ResourceTree } from './tree.js';
import { OperationsPanel } from './operations.js';
import { ChatPanel } from './chat.js';

type Connection = 'connecting' | 'live' | 'polling';

/**
 * Listens to the server's change signals (SSE) and calls `onChange` for each, and once the stream is (re)opened.
 * While the stream is down it polls instead.
 */
function useLiveUpdates(onChange: () => void): Connection {
  const [connection, setConnection] = useState<Connection>('connecting');
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    const events = new EventSource(`${API_BASE}/events`);
    const fire = () => latest.current();
    events.addEventListener('ready', () => {
      setConnection('live');
      fire();
    });
    events.addEventListener('change', fire);
    events.onerror = () => setConnection('polling');
    const poll = setInterval(() => {
      if (events.readyState !== EventSource.OPEN) fire();
    }, 3000);
    return () => {
      clearInterval(poll);
      events.close();
    };
  }, []);
  return connection;
}

export function App() {
  const [tree, setTree] = useState<TreeResponse>();
  // Undefined until the first answer: the page shows "loading", not "no operations yet".
  const [operations, setOperations] = useState<OperationView[]>();
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  const [health, setHealth] = useState<{ version: string; profile: string }>();
  const [chatWith, setChatWith] = useState<string>();
  const [now, setNow] = useState(Date.now());

  // One refresh at a time; a change arriving meanwhile schedules one more.
  const inFlight = useRef(false);
  const again = useRef(false);
  const refresh = useCallback(async () => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    try {
      do {
        again.current = false;
        const [t, ops] = await Promise.all([api.tree(), api.operations(50)]);
        setTree(t);
        setOperations(ops.value);
        setVersion((v) => v + 1);
        setError(undefined);
      } while (again.current);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      inFlight.current = false;
    }
  }, []);

  const connection = useLiveUpdates(refresh);
  useEffect(() => {
    void refresh();
    api.health().then(setHealth, () => undefined);
  }, [refresh]);

  // Running operations show their elapsed time.
  const running = operations?.some((o) => o.status === 'InProgress') ?? false;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [running]);

  const endpoint = chatWith && tree ? findResource(tree, chatWith) : undefined;

  return (
    <div class="shell">
      <header class="topbar">
        <div class="brand">
          <span class="logo">amlite</span>
          <span class="title">dashboard</span>
        </div>
        <div class="meta">
          {health && <span class="meta-item">v{health.version}</span>}
          {health && (
            <span class="meta-item">
              profile <b>{health.profile}</b>
            </span>
          )}
          {tree && <span class="meta-item">updated {clock(tree.at)}</span>}
          <span class={`conn conn-${connection}`} data-testid="connection" data-state={connection}>
            <span class="dot" />
            {connection === 'live' ? 'live' : connection === 'polling' ? 'reconnecting' : 'connecting'}
          </span>
        </div>
      </header>
      {error && (
        <div class="banner" data-testid="error">
          Cannot read the emulator: {error}
        </div>
      )}
      <main class="layout">
        <section class="col-main">
          <ResourceTree tree={tree} version={version} chatWith={chatWith} onChat={setChatWith} />
        </section>
        <aside class="col-side">
          {chatWith && <ChatPanel id={chatWith} endpoint={endpoint} onClose={() => setChatWith(undefined)} />}
          <OperationsPanel operations={operations} now={now} />
        </aside>
      </main>
    </div>
  );
}

function findResource(tree: TreeResponse, id: string): ArmResource | undefined {
  const key = id.toLowerCase();
  const stack = tree.subscriptions.flatMap((s) => s.resourceGroups);
  while (stack.length) {
    const node = stack.pop()!;
    if (node.resource.id.toLowerCase() === key) return node.resource;
    for (const kids of Object.values(node.children)) stack.push(...kids);
  }
  return undefined;
}
