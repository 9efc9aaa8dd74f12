import type { ActionDef } from '../resource-type.js';
import type { ReadOperation } from './read.js';
import type { CheckExistenceOperation } from './check-existence.js';
import type { ListByParentOperation } from './list-by-parent.js';
import type { ListBySubscriptionOperation } from './list-by-subscription.js';
import type { CreateOrReplaceOperation } from './create-or-replace.js';
import type { UpdateOperation } from './update.js';
import type { DeleteOperation } from './delete.js';

/**
 * The operations a resource type declares, named as TypeSpec's ARM templates name them
 * (typespec-azure-resource-manager/lib/operations.tsp), one file per template. A template is data; the engine
 * carries it out.
 */
export interface Operations {
  read: ReadOperation;
  checkExistence: CheckExistenceOperation;
  listByParent: ListByParentOperation;
  listBySubscription?: ListBySubscriptionOperation;
  createOrReplace: CreateOrReplaceOperation;
  /** Absent: the type has no PATCH (the route is not mounted, so a PATCH answers 404 as any unknown route). */
  update?: UpdateOperation;
  delete: DeleteOperation;
  /** `ArmResourceActionSync|Async`: POST (or GET) below the item. */
  actions?: ActionDef[];
}

export * from './read.js';
export * from './check-existence.js';
export * from './list-by-parent.js';
export * from './list-by-subscription.js';
export * from './create-or-replace.js';
export * from './update.js';
export * from './delete.js';
export * from './action.js';
