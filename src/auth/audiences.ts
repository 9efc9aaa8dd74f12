/** The audiences a token must be for, per plane. */

export const MANAGEMENT_AUDIENCES = [
  'https://management.azure.com/',
  'https://management.azure.com',
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
];
export const ML_AUDIENCES = ['https://ml.azure.com', 'https://ml.azure.com/'];

/** Names of this machine's loopback interface: interchangeable in issuers and audiences. */
export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * ARM's audiences, and amlite's own origin (as Azure Stack accepts its own endpoint): clients that scope their token
 * to the endpoint they were given (`@azure/arm-resources` v7 asks for `{endpoint}/.default`) get one for it. Loopback
 * names of this machine are interchangeable, as for the issuer.
 */
export function managementAudiences(origin: string): readonly string[] {
  let known = audiencesOf.get(origin);
  if (!known) {
    if (audiencesOf.size >= ORIGINS_REMEMBERED) audiencesOf.clear();
    audiencesOf.set(origin, (known = Object.freeze(audiencesAt(origin))));
  }
  return known;
}

/** Origins whose audiences are remembered (clients call one or two); beyond, the memory starts afresh. */
const ORIGINS_REMEMBERED = 64;
const audiencesOf = new Map<string, readonly string[]>();

function audiencesAt(origin: string): string[] {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return MANAGEMENT_AUDIENCES;
  }
  const host = url.hostname.toLowerCase();
  const hosts = LOOPBACK.has(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host];
  const port = url.port ? `:${url.port}` : '';
  const own = hosts.flatMap((h) => [`${url.protocol}//${h}${port}`, `${url.protocol}//${h}${port}/`]);
  return [...MANAGEMENT_AUDIENCES, ...own];
}

/** The data plane's audiences (pool endpoints and AAD serverless endpoints). */
export const mlAudiences = (): readonly string[] => ML_AUDIENCES;
