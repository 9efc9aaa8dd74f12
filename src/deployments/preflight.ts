/**
 * What ARM checks before it accepts a deployment (and all that `validate` does): the request's shape, the template
 * and its parameters, and the api-version of each resource of a type amlite serves.
 */
import { ArmError, errors, type ErrorDetail } from '../arm/errors.js';
import { isPlainObject } from '../arm/merge-patch.js';
import type { TypeRegistry } from '../arm/registry.js';
import { TemplateError, prepareTemplate, type JsonObject, type PreparedTemplate } from '../templates/index.js';
import { canonicalId, parseTarget, type Gateway } from './gateway.js';
import { DEPLOYMENT_TEMPLATE_MAX_BYTES } from './limits.js';
import type { DeploymentTemplateContext } from './template-context.js';
import type { DeploymentState, Scope } from './state.js';

export interface DeploymentRequest {
  template: JsonObject;
  parameters: DeploymentState['parameters'];
  mode: DeploymentState['mode'];
  debugSetting?: JsonObject;
  location?: string;
  tags?: Record<string, string>;
  whatIfSettings?: JsonObject;
}

/** The request body of a PUT, validate or whatIf: its shape as ARM's swagger declares it. */
export function readRequest(raw: unknown, scope: Scope): DeploymentRequest {
  if (!isPlainObject(raw)) throw errors.bodyRequired();
  const props = raw.properties;
  if (!isPlainObject(props))
    throw errors.invalidContent([{ path: 'properties', message: "Required property 'properties' not found in JSON." }]);
  for (const link of ['templateLink', 'parametersLink'] as const) {
    if (props[link] !== undefined && props[link] !== null)
      throw new ArmError(
        400,
        'InvalidTemplateDeployment',
        `The deployment uses '${link}': amlite runs offline and cannot fetch linked templates or parameter files. ` +
          "Send the template inline in 'properties.template' (az deployment and Bicep do so for local files).",
        `properties.${link}`,
      );
  }
  if (!isPlainObject(props.template))
    throw errors.invalidContent([
      { path: 'properties.template', message: "Required property 'template' (an object) not found in JSON." },
    ]);
  const size = Buffer.byteLength(JSON.stringify(props.template));
  if (size > DEPLOYMENT_TEMPLATE_MAX_BYTES)
    throw new TemplateError(
      `The template size '${size}' bytes exceeds the limit of '${DEPLOYMENT_TEMPLATE_MAX_BYTES}' bytes.`,
      'properties.template',
    );
  const modeRaw = String(props.mode ?? 'Incremental');
  const mode = /^complete$/i.test(modeRaw) ? 'Complete' : /^incremental$/i.test(modeRaw) ? 'Incremental' : undefined;
  if (!mode)
    throw errors.invalidContent([
      { path: 'properties.mode', message: `The deployment mode '${modeRaw}' is not valid: Incremental or Complete.` },
    ]);
  if (mode === 'Complete' && !scope.resourceGroup)
    throw new ArmError(
      400,
      'InvalidDeploymentMode',
      "The deployment mode 'Complete' is only supported for deployments at resource group scope.",
      'properties.mode',
    );
  const parameters = props.parameters ?? {};
  if (!isPlainObject(parameters) || Object.values(parameters).some((p) => !isPlainObject(p)))
    throw errors.invalidContent([
      { path: 'properties.parameters', message: "The deployment 'parameters' must be an object of { value } objects." },
    ]);
  const location = raw.location;
  if (!scope.resourceGroup && (typeof location !== 'string' || !location))
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.', 'location');
  if (location !== undefined && typeof location !== 'string')
    throw errors.invalidContent([{ path: 'location', message: 'The location must be a string.' }]);
  if (props.debugSetting !== undefined && !isPlainObject(props.debugSetting))
    throw errors.invalidContent([{ path: 'properties.debugSetting', message: 'debugSetting must be an object.' }]);
  return {
    template: props.template as JsonObject,
    parameters: parameters as DeploymentState['parameters'],
    mode,
    debugSetting: props.debugSetting as JsonObject | undefined,
    location: location as string | undefined,
    tags: isPlainObject(raw.tags) ? (raw.tags as Record<string, string>) : undefined,
    whatIfSettings: isPlainObject(props.whatIfSettings) ? (props.whatIfSettings as JsonObject) : undefined,
  };
}

/**
 * Prepares the template and checks the api-version of each resource a registered type serves: 400 InvalidTemplate or
 * InvalidTemplateDeployment. Resource bodies are not checked here: as on Azure for a resource provider without
 * preflight validation (Azure ML), the deployment is accepted and the resource fails it at run time with its own
 * error (DeploymentFailed). `az deployment group create` validates before it creates, so validate does the same.
 */
export function preflight(
  req: DeploymentRequest,
  ctx: DeploymentTemplateContext,
  gateway: Gateway,
  registry: TypeRegistry,
): PreparedTemplate {
  const plan = prepareTemplate(req.template, ctx, { parameters: req.parameters });
  const details: ErrorDetail[] = [];
  for (const inst of plan.resources) {
    if (inst.condition === false || inst.existing || inst.nested) continue;
    const target = parseTarget(canonicalId(inst.id));
    const t = target && registry.find(target.typeName);
    if (!t) continue;
    try {
      const location = typeof inst.body.location === 'string' ? inst.body.location : undefined;
      gateway.version(t, inst.apiVersion, location);
    } catch (e) {
      if (!(e instanceof ArmError)) throw e;
      details.push({ ...e.toBody().error, target: canonicalId(inst.id) });
    }
  }
  if (details.length)
    throw new ArmError(
      400,
      'InvalidTemplateDeployment',
      `The template deployment failed the preflight validation: ${details.length} resource(s) are not valid. ` +
        'Please see the details.',
      undefined,
      details,
    );
  return plan;
}
