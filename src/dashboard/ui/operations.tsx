import type { OperationView } from '../api.js';
import { clock, duration, shortType } from './format.js';
import { Badge } from './badge.js';

const nameOf = (id: string) => id.split('/').at(-1) ?? id;

/**
 * The most recent long-running operations, newest first, with their timings and outcomes. `operations` is undefined
 * until the first answer arrives: the panel says it is loading, never "no operations" before it knows.
 */
export function OperationsPanel({ operations, now }: { operations: OperationView[] | undefined; now: number }) {
  if (!operations) {
    return (
      <div class="card ops">
        <div class="card-title">Recent operations</div>
        <div class="none" data-testid="operations-loading">
          Loading…
        </div>
      </div>
    );
  }
  return (
    <div class="card ops">
      <div class="card-title">
        Recent operations <span class="count">{operations.length}</span>
      </div>
      {operations.length === 0 ? (
        <div class="none" data-testid="operations-empty">
          No operations yet: creates, updates and deletes show here while they run.
        </div>
      ) : (
        <div class="scroll">
          <table class="grid" data-testid="operations">
            <thead>
              <tr>
                <th>operation</th>
                <th>resource</th>
                <th>status</th>
                <th class="num">took</th>
              </tr>
            </thead>
            <tbody>
              {operations.map((op) => {
                const took =
                  op.durationMs ??
                  (op.status === 'InProgress' ? Math.max(now, Date.now()) - Date.parse(op.startTime) : undefined);
                return (
                  <tr
                    key={op.id}
                    data-testid="operation"
                    data-op-id={op.id}
                    data-resource={op.resourceId.toLowerCase()}
                    data-kind={op.kind}
                  >
                    <td>
                      <div class="strong">{op.kind === 'action' ? (op.action ?? 'action') : op.kind}</div>
                      <div class="mono small muted" title={op.startTime}>
                        {clock(op.startTime)}
                      </div>
                    </td>
                    <td title={op.resourceId}>
                      <div>{nameOf(op.resourceId)}</div>
                      <div class="small muted">{shortType(op.resourceType)}</div>
                    </td>
                    <td>
                      <Badge state={op.status} field="status" of={op.id} />
                      {op.error && (
                        <div class="small bad-text" title={op.error.message}>
                          {op.error.code}
                        </div>
                      )}
                    </td>
                    <td class="num mono small" data-testid="took">
                      {took === undefined ? '' : duration(Math.max(0, took))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
