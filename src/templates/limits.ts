/** Bounds on the work one template may ask for; each is listed in the README ("Template deployments"). */

/** ARM: a template expression may hold at most 24,576 characters. */
export const TEMPLATE_EXPRESSION_MAX_LENGTH = 24_576;
/** Nesting of calls, brackets and property accesses in one expression (amlite's bound; parsing is recursive). */
export const TEMPLATE_EXPRESSION_MAX_DEPTH = 64;
/** Nested evaluation (user functions, lambdas, variables referring to variables) (amlite's bound). */
export const TEMPLATE_EVAL_MAX_DEPTH = 128;
/** Function calls evaluated for one template, all expressions together (amlite's bound). */
export const TEMPLATE_EVAL_MAX_CALLS = 2_000_000;
/** Characters of one computed string, and elements of one computed array (amlite's bound: the 4 MB template size). */
export const TEMPLATE_VALUE_MAX_SIZE = 4 * 1024 * 1024;
/** ARM: a copy loop (resource, property, variable or output) has at most 800 iterations. */
export const TEMPLATE_COPY_MAX_COUNT = 800;
/** ARM: `range()` yields at most 10,000 integers. */
export const TEMPLATE_RANGE_MAX_COUNT = 10_000;
/** ARM: resources in one template, copies included. */
export const TEMPLATE_MAX_RESOURCES = 800;
/** ARM: parameters, variables and outputs of one template. */
export const TEMPLATE_MAX_PARAMETERS = 256;
export const TEMPLATE_MAX_VARIABLES = 256;
export const TEMPLATE_MAX_OUTPUTS = 64;
/** Nested inline deployments inside one another (amlite's bound). */
export const TEMPLATE_MAX_NESTING = 10;
