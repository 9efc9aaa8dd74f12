import { toneOf } from './format.js';

/** A state as a coloured badge; `field` names the property it shows (for tests and tooltips). */
export function Badge({ state, field, of }: { state: string | undefined; field: string; of?: string }) {
  const owner = of?.toLowerCase();
  if (!state)
    return (
      <span class="badge badge-none" data-field={field} data-of={owner}>
        —
      </span>
    );
  const tone = toneOf(state);
  return (
    <span
      class={`badge badge-${tone}`}
      data-field={field}
      data-of={owner}
      data-state={state}
      title={`${field}: ${state}`}
    >
      {state}
    </span>
  );
}
