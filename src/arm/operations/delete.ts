import type { LroMode } from '../lro/index.js';

/** `ArmResourceDeleteSync` / `ArmResourceDeleteWithoutOkAsync` / `ArmResourceDeleteAsync`: DELETE on the item. */
export interface DeleteOperation {
  name: 'delete';
  lro?: LroMode;
  /** What the result URL of a finished delete answers: the status the swagger declares. */
  doneStatus: 200 | 204;
}

export const deleteSync = (): DeleteOperation => ({ name: 'delete', doneStatus: 200 });

/** Answers 202 with Location; `doneStatus` is what the result URL answers once the resource is gone. */
export const deleteAsync = (o: { doneStatus?: 200 | 204; lro?: LroMode } = {}): DeleteOperation => ({
  name: 'delete',
  lro: o.lro ?? 'location',
  doneStatus: o.doneStatus ?? 200,
});
