import type { OperationRecord, StoredResource } from '../store/types.js';

/** How a request (or an operation it starts) looks to whoever plugs in from outside (e.g. test control). */
export interface RequestSubject {
  plane: 'management' | 'data';
  /** The ARM type ('' for ARM's own endpoints). */
  type: string;
  name: string;
  method: string;
  action?: string;
  subscription: string;
}

/**
 * The two places the management plane can be extended from outside without knowing who extends it:
 * before a request is handled (may throw an ARM error, may add headers) and when a long-running operation starts
 * (may make it fail or hold it, by editing the record before it is stored).
 */
export interface ManagementHooks {
  beforeRequest: ((s: RequestSubject, now: number) => Promise<Record<string, string>>)[];
  /** `resource`: the resource as the request is about to store it (read it; change only `op`). */
  onOperationStart: ((op: OperationRecord, s: RequestSubject, resource: StoredResource) => Promise<void>)[];
}

export const createManagementHooks = (): ManagementHooks => ({ beforeRequest: [], onOperationStart: [] });
