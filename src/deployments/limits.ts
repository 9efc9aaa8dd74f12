/** Bounds on template deployments (README "Template deployments"); the template language's own are in templates/. */

/** ARM: a template (with its parameters) may be at most 4 MiB. */
export const DEPLOYMENT_TEMPLATE_MAX_BYTES = 4 * 1024 * 1024;
/** Resources deployed by one deployment, nested deployments' resources included (amlite's bound). */
export const DEPLOYMENT_MAX_RESOURCES_TOTAL = 2_000;
/** Resources of one deployment being created at the same time (amlite's bound; ARM runs independent ones in parallel). */
export const DEPLOYMENT_MAX_CONCURRENCY = 16;
/** ARM: a resource group (or a subscription) keeps at most 800 deployments; the oldest finished ones go first. */
export const DEPLOYMENT_HISTORY_MAX = 800;
/** How often the runner looks at a resource's operation while it waits for it (milliseconds). */
export const DEPLOYMENT_POLL_MS = 25;
/** Rounds of fetching what reference()/list*() ask for before a value is given up on (amlite's bound). */
export const DEPLOYMENT_MAX_FETCH_ROUNDS = 50;
