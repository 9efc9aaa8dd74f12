/** Every ARM error amlite returns is built here, so codes, statuses and wording stay consistent. */

export interface ErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ErrorDetail[];
  additionalInfo?: { type: string; info: unknown }[];
}

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { error: ErrorDetail } {
    const error: ErrorDetail = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details?.length) error.details = this.details;
    return { error };
  }
}

const NOT_FOUND_HELP = 'For more details please go to https://aka.ms/ARMResourceNotFoundFix';

export const errors = {
  missingApiVersion: () =>
    new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    ),

  invalidApiVersion: (version: string, supported: readonly string[]) =>
    new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version}' is invalid. The supported versions are '${supported.join(',')}'.`,
    ),

  noRegisteredProvider: (location: string, version: string, type: string, supported: readonly string[]) =>
    new ArmError(
      400,
      'NoRegisteredProviderFound',
      // A GET or POST names no location: the message then says none rather than "for location ''".
      `No registered resource provider found for ${location ? `location '${location}' and ` : ''}API version ` +
        `'${version}' for type '${type}'. ` +
        `The supported api-versions are '${supported.join(', ')}'.`,
    ),

  authMissing: () =>
    new ArmError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      undefined,
      undefined,
      {
        'www-authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
      },
    ),

  authInvalid: (why: string) =>
    new ArmError(401, 'InvalidAuthenticationToken', `The access token is invalid: ${why}`, undefined, undefined, {
      'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${why}"`,
    }),

  authExpired: () =>
    new ArmError(
      401,
      'ExpiredAuthenticationToken',
      'The access token expiry UTC time is earlier than current UTC time.',
      undefined,
      undefined,
      {
        'www-authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The access token has expired."',
      },
    ),

  resourceGroupNotFound: (rg: string) =>
    new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`),

  /** `path` is the id after /providers/, e.g. {namespace}/{type}/{name}/{childType}/{childName}. */
  resourceNotFound: (path: string, rg: string) =>
    new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${path}' under resource group '${rg}' was not found. ${NOT_FOUND_HELP}`,
    ),

  parentNotFound: (parentType: string, parentName: string, rg: string) =>
    new ArmError(
      404,
      'ParentResourceNotFound',
      `Can not perform requested operation on nested resource. Parent resource '${parentName}' of type '${parentType}' under resource group '${rg}' was not found.`,
    ),

  operationNotFound: (id: string) => new ArmError(404, 'NotFound', `The operation '${id}' was not found.`),

  noRoute: (method: string, path: string) =>
    new ArmError(
      404,
      'NotFound',
      `No HTTP resource was found that matches the request URI '${path}' for method '${method}'.`,
    ),

  invalidResourceName: (name: string, type: string, rule: string) =>
    new ArmError(
      400,
      'InvalidResourceName',
      `The resource name '${name}' is invalid for type '${type}'. It must ${rule}.`,
      'name',
    ),

  invalidContent: (problems: { path: string; message: string }[]) => {
    const [first] = problems;
    const text = (p: { path: string; message: string }) => `${p.message} Path '${p.path}'.`;
    return new ArmError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: ${text(first)}`,
      first.path,
      problems.length > 1
        ? problems.map((p) => ({ code: 'InvalidRequestContent', message: text(p), target: p.path }))
        : undefined,
    );
  },

  invalidJson: (why: string) =>
    new ArmError(400, 'InvalidRequestFormat', 'Cannot parse the request.', undefined, [
      { code: 'InvalidJson', message: `Error converting value: ${why}` },
    ]),

  bodyRequired: () =>
    new ArmError(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized: the request body is required.',
      '',
    ),

  unsupportedMediaType: (type: string) =>
    new ArmError(
      415,
      'UnsupportedMediaType',
      `The content media type '${type}' is not supported. Only 'application/json' is supported.`,
    ),

  bodyTooLarge: (limit: number) =>
    new ArmError(413, 'RequestEntityTooLarge', `The request content length exceeds the limit of ${limit} bytes.`),

  invalidLocation: (id: string, stored: string, requested: string) =>
    new ArmError(
      400,
      'InvalidResourceLocation',
      `The resource '${id}' already exists in location '${stored}'. A resource with the same name cannot be created in location '${requested}'. Please select a new resource name.`,
      'location',
    ),

  locationNotAvailable: (location: string, type: string) =>
    new ArmError(
      400,
      'LocationNotAvailableForResourceType',
      `The provided location '${location.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}' is not available for resource type '${type}'. ` +
        "A location is an Azure region name such as 'eastus' or 'West Europe' (letters and digits; spaces and case are ignored).",
      'location',
    ),

  linkedInvalidPropertyId: (value: string, path: string) =>
    new ArmError(
      400,
      'LinkedInvalidPropertyId',
      `Property id '${value}' at path '${path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
      path,
    ),

  badRequest: (message: string, target?: string) => new ArmError(400, 'BadRequest', message, target),

  preconditionFailed: (id: string) =>
    new ArmError(
      412,
      'PreconditionFailed',
      `The condition specified using HTTP conditional header(s) is not met for resource '${id}'.`,
      id,
    ),

  operationInProgress: (id: string, operation: string) =>
    new ArmError(
      409,
      'AnotherOperationInProgress',
      `Another operation (${operation}) is in progress on the resource '${id}'. Retry after it completes.`,
      id,
    ),

  conflict: (message: string, target?: string) => new ArmError(409, 'Conflict', message, target),

  invalidSubscriptionId: (id: string) =>
    new ArmError(
      400,
      'InvalidSubscriptionId',
      `The provided subscription identifier '${id.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}' is malformed or ` +
        'invalid.',
    ),

  resourceGroupBeingDeleted: (rg: string) =>
    new ArmError(
      409,
      'ResourceGroupBeingDeleted',
      `The resource group '${rg}' is in deprovisioning state and cannot perform this operation.`,
    ),

  parentBeingDeleted: (parentType: string, parentId: string) =>
    new ArmError(
      409,
      'Conflict',
      `The parent resource '${parentId}' of type '${parentType}' is being deleted: ` +
        'no resource can be created or changed under it.',
      parentId,
    ),

  internal: () => new ArmError(500, 'InternalServerError', 'An internal error occurred in amlite. See the server log.'),
};
