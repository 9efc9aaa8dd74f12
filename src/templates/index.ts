/** The ARM template language: expressions, functions and preparation (issue 17's first slice). */
export type { Json, JsonObject, TemplateContext } from './context.js';
export { TemplateError } from './errors.js';
export { parseExpression, expressionText } from './expressions.js';
export { evaluateString, evaluateValue, Scope, DEFERRED, Deferred, type Env } from './evaluate.js';
export { TEMPLATE_FUNCTIONS } from './functions.js';
export { uniqueString, armGuid } from './hash.js';
export {
  prepareTemplate,
  prepareNested,
  PreparedTemplate,
  type ResourceInstance,
  type PrepareOptions,
} from './prepare.js';
export * from './limits.js';
