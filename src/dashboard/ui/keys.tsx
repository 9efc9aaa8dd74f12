import { useEffect, useRef, useState } from 'preact/hooks';
import type { KeysResponse } from '../api.js';
import { api } from './client.js';

export interface Keys {
  /** The masked keys (always shown). */
  masked?: KeysResponse;
  /** The full keys, only once the user asked to reveal them. */
  full?: KeysResponse;
  error?: string;
  toggle(): void;
}

/**
 * An endpoint's keys: masked, read again whenever the emulator's state changes (e.g. after regenerateKeys). The full
 * keys reach the page only when the user reveals them, and are forgotten when hidden.
 */
export function useKeys(id: string | undefined, version: number): Keys {
  const [masked, setMasked] = useState<KeysResponse>();
  const [full, setFull] = useState<KeysResponse>();
  const [error, setError] = useState<string>();
  // What the user asked for last: a read in flight must not bring back keys hidden meanwhile.
  const wantFull = useRef(false);

  useEffect(() => {
    if (!id) return;
    let live = true;
    const read = async () => {
      try {
        const m = await api.keys(id);
        // Revealed keys stay revealed, and stay current.
        const f = wantFull.current ? await api.keys(id, true) : undefined;
        if (!live) return;
        setMasked(m);
        if (f && wantFull.current) setFull(f);
        setError(undefined);
      } catch (e) {
        if (live) setError((e as Error).message);
      }
    };
    void read();
    return () => {
      live = false;
    };
  }, [id, version]);

  const toggle = async () => {
    if (!id) return;
    if (wantFull.current) {
      wantFull.current = false;
      return setFull(undefined);
    }
    wantFull.current = true;
    try {
      const f = await api.keys(id, true);
      if (wantFull.current) setFull(f);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return { masked, full, error, toggle };
}

/** The masked keys and the reveal / hide switch. */
export function KeysCell({ id, keys }: { id: string; keys: Keys }) {
  if (keys.error)
    return (
      <span class="muted small" title={keys.error}>
        unavailable
      </span>
    );
  if (!keys.masked) return <span class="muted small">…</span>;
  return (
    <div class="keys" data-testid="keys" data-of={id.toLowerCase()} data-masked={String(!keys.full)}>
      <div class="key-row">
        <span class="key-label">primary</span>
        <code class="key" data-testid="key-primary">
          {keys.masked.primaryKey}
        </code>
      </div>
      <div class="key-row">
        <span class="key-label">secondary</span>
        <code class="key" data-testid="key-secondary">
          {keys.masked.secondaryKey}
        </code>
      </div>
      <button class="link" data-testid="reveal" onClick={keys.toggle}>
        {keys.full ? 'hide' : 'reveal'}
      </button>
    </div>
  );
}

/** The full keys, shown across the table under the endpoint's row once revealed. */
export function RevealedKeys({ id, keys }: { id: string; keys: KeysResponse }) {
  return (
    <div class="revealed" data-testid="keys-revealed" data-of={id.toLowerCase()}>
      <span class="key-label">primary</span>
      <code class="key" data-testid="revealed-primary">
        {keys.primaryKey}
      </code>
      <span class="key-label">secondary</span>
      <code class="key" data-testid="revealed-secondary">
        {keys.secondaryKey}
      </code>
    </div>
  );
}
