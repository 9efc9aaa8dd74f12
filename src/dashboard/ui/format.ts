/** Small display helpers. */

export type Tone = 'ok' | 'busy' | 'bad' | 'muted';

const TONES: Record<string, Tone> = {
  succeeded: 'ok',
  online: 'ok',
  healthy: 'ok',
  enabled: 'ok',
  creating: 'busy',
  updating: 'busy',
  deleting: 'busy',
  inprogress: 'busy',
  provisioning: 'busy',
  accepted: 'busy',
  scaling: 'busy',
  failed: 'bad',
  creationfailed: 'bad',
  unhealthy: 'bad',
};

export const toneOf = (state: string | undefined): Tone => TONES[String(state).toLowerCase()] ?? 'muted';

export function clock(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `Microsoft.MachineLearningServices/workspaces/serverlessEndpoints` → `serverlessEndpoints`. */
export const shortType = (type: string): string => type.split('/').at(-1) ?? type;

export const str = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' ? undefined : String(v);

/** The last path segment of a model id (`azureml://…/models/Llama-2-7b-chat/versions/24` → `Llama-2-7b-chat`, version 24). */
export function modelName(modelId: string | undefined): string | undefined {
  if (!modelId) return undefined;
  const m = /\/models\/([^/]+)(?:\/versions\/([^/]+))?/.exec(modelId);
  return m ? (m[2] ? `${m[1]} v${m[2]}` : m[1]) : modelId;
}
