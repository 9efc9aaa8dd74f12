import type { StoredResource } from '../../store/types.js';
import type { RequestContext } from '../context.js';
import type { Reply } from '../lro/index.js';

/** What a list with its own query language (count, filters, order) needs from the engine. */
export interface ListRequest {
  ctx: RequestContext;
  /** Every resource of the type under the parent, in key order. */
  rows(): Promise<StoredResource[]>;
  /** The resources as the client sees them (finishing due operations first). */
  render(rows: StoredResource[]): Promise<Record<string, unknown>[]>;
}
export type ListQuery = (req: ListRequest) => Promise<Reply>;

/** `ArmResourceListByParent`: GET on the collection; keyset paging unless the type brings its own query. */
export interface ListByParentOperation {
  name: 'listByParent';
  query?: ListQuery;
}
export const listByParent = (query?: ListQuery): ListByParentOperation => ({ name: 'listByParent', query });
