/** Template errors in ARM's words: code InvalidTemplate, 400, the JSON path of the offending value as `target`. */
import { ArmError } from '../arm/errors.js';

export const EXPRESSIONS_HELP = 'Please see https://aka.ms/arm-template-expressions for usage details.';
const SYNTAX_HELP = 'Please see https://aka.ms/arm-syntax for usage details.';
const PARAMETER_FILES_HELP = 'Please see https://aka.ms/resource-manager-parameter-files for usage details.';

/** An expression failed: kept apart from ArmError so the caller can name where (resource, output, variable). */
export class ExpressionError extends Error {}

export class TemplateError extends ArmError {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(400, 'InvalidTemplate', message, path);
  }
}

export const templateErrors = {
  parse: (expr: string, why: string) => new ExpressionError(`Unable to parse language expression '${expr}': ${why}.`),
  unexpectedChar: (expr: string, ch: string, pos: number) =>
    new ExpressionError(
      `The language expression '${expr}' is not valid: the string character '${ch}' at position '${pos}' ` +
        'is not expected.',
    ),
  unknownFunction: (name: string) =>
    new ExpressionError(`The template function '${name}' is not valid. ${EXPRESSIONS_HELP}`),
  notExpectedHere: (name: string, why = '') =>
    new ExpressionError(`The template function '${name}' is not expected at this location.${why ? ` ${why}` : ''}`),
  arity: (name: string, bound: string, n: number) =>
    new ExpressionError(`The template language function '${name}' must have ${bound} '${n}' parameter(s).`),
  argType: (name: string, expected: string, actual: string) =>
    new ExpressionError(
      `The template language function '${name}' expects its parameter(s) to be of type '${expected}'. ` +
        `The provided value is of type '${actual}'.`,
    ),
  invalidArg: (name: string, why: string) =>
    new ExpressionError(`Unable to evaluate template language function '${name}': ${why}`),
  propertyMissing: (prop: string, available: string[]) =>
    new ExpressionError(
      `The language expression property '${prop}' doesn't exist, available properties are '${available.join(', ')}'.`,
    ),
  indexOutOfBounds: (index: number) =>
    new ExpressionError(`The language expression property array index '${index}' is out of bounds.`),
  notIndexable: (actual: string) =>
    new ExpressionError(`The language expression property access is not valid on a value of type '${actual}'.`),
  parameterNotFound: (name: string) =>
    new ExpressionError(
      `The template parameter '${name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.`,
    ),
  variableNotFound: (name: string) =>
    new ExpressionError(
      `The template variable '${name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.`,
    ),
  circularVariable: (name: string) =>
    new ExpressionError(`The template variable '${name}' refers to itself (circular reference).`),
  limit: (what: string, limit: number) => new ExpressionError(`The ${what} exceeds the limit of '${limit}'.`),

  /** An expression failed while validating a named part of the template. */
  inResource: (name: string, inner: string, path: string) =>
    new TemplateError(
      `Deployment template validation failed: 'The template resource '${name}' is not valid: ${inner}'.`,
      path,
    ),
  inPart: (kind: string, name: string, inner: string, path: string) =>
    new TemplateError(
      `Deployment template validation failed: 'The template ${kind} '${name}' is not valid: ${inner}'.`,
      path,
    ),
  /** An expression failed at deploy time (a value waiting for a reference()). */
  atDeploy: (resource: string, inner: string, path: string) =>
    new TemplateError(`Unable to process template language expressions for resource '${resource}'. '${inner}'`, path),
  invalid: (what: string, path?: string) =>
    new TemplateError(`Deployment template validation failed: '${what}'.`, path),
  circular: (resourceId: string) =>
    new TemplateError(
      `Deployment template validation failed: 'Circular dependency detected on resource: '${resourceId}'. ` +
        `Please see https://aka.ms/arm-template/#resources for usage details.'.`,
    ),
  notDefined: (ref: string, path: string) =>
    new TemplateError(
      `Deployment template validation failed: 'The resource '${ref}' is not defined in the template. ${SYNTAX_HELP}'.`,
      path,
    ),
  parameterType: (name: string, expected: string, actual: string) =>
    new TemplateError(
      `Deployment template validation failed: 'Template parameter JToken type is not valid. Expected '${expected}'. ` +
        `Actual '${actual}'. ${PARAMETER_FILES_HELP}'.`,
      `parameters.${name}`,
    ),
  parameterMissing: (name: string) =>
    new TemplateError(
      `Deployment template validation failed: 'The value for the template parameter '${name}' is not provided. ` +
        `${PARAMETER_FILES_HELP}'.`,
      `parameters.${name}`,
    ),
  parameterUnknown: (given: string[], supported: string[]) =>
    new TemplateError(
      `The template parameters '${given.join(', ')}' in the parameters file are not valid; they are not present in ` +
        'the original template and can therefore not be provided at deployment time. The only supported parameters ' +
        `for this template are '${supported.join(', ')}'. ${PARAMETER_FILES_HELP}`,
    ),
  parameterValue: (name: string, why: string) =>
    new TemplateError(
      `Deployment template validation failed: 'The provided value for the template parameter '${name}' is not ` +
        `valid. ${why}'.`,
      `parameters.${name}`,
    ),
};

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
