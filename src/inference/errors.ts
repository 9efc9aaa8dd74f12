import { ArmError } from '../arm/errors.js';

/** An Azure.Core error of the data plane: `{error:{code,message}}` with the `x-ms-error-code` header. */
export const apiError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  new ArmError(status, code, message, undefined, undefined, { 'x-ms-error-code': code, ...headers });
