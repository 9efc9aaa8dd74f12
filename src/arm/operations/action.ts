import type { LroMode } from '../lro/index.js';
import type { ActionDef } from '../resource-type.js';

/** `ArmResourceActionSync`: an action answered at once. */
export const actionSync = (def: ActionDef): ActionDef => ({ ...def, lro: undefined });

/** `ArmResourceActionAsync`: the handler may start an operation (202 + Location), applied by `def.complete`. */
export const actionAsync = (
  def: ActionDef & Required<Pick<ActionDef, 'complete'>>,
  lro: LroMode = 'location',
): ActionDef => ({ ...def, lro });
