/** Template deployments (issue 17): Microsoft.Resources/deployments and the runner that deploys a template. */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ArmRouteHelpers } from '../arm/routes.js';
import type { Profile } from '../provisioner/profiles.js';
import { Gateway, type GatewayDeps } from './gateway.js';
import { DeploymentRunner } from './runner.js';
import { deploymentRoutes } from './routes.js';

export { DEPLOYMENT_TYPE } from './state.js';
export * from './limits.js';
export { DEPLOYMENT_TAKEOVER_MS } from './runner.js';
export { DEPLOYMENT_API_VERSIONS } from './routes.js';
export { DEPLOYMENT_LENIENT_JSON_MAX_CHARS } from './lenient-json.js';

export interface Deployments {
  routes(app: FastifyInstance, helpers: ArmRouteHelpers): void;
  /** Resumes the deployments a stopped or crashed server left running; returns how many. */
  resume(owner: string): Promise<number>;
  stop(): Promise<void>;
}

export function createDeployments(deps: GatewayDeps & { profile: Profile; log: FastifyBaseLogger }): Deployments {
  const gateway = new Gateway(deps);
  const runner = new DeploymentRunner(gateway, deps.registry, deps.log);
  return {
    routes: deploymentRoutes({ gateway, runner, registry: deps.registry, profile: deps.profile }),
    resume: (owner) => runner.resume(owner),
    stop: () => runner.stop(),
  };
}
