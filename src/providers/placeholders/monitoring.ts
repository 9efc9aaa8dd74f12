import { fillProperties, host, keysAction, mintedOf, placeholder, placeholderProvider } from './placeholder.js';

/** An Application Insights component: its instrumentation key, application id and connection string. */
const components = placeholder({
  type: 'Microsoft.Insights/components',
  param: 'resourceName',
  version: '2020-02-02',
  fill: (r, doc) => {
    const [instrumentationKey, appId] = mintedOf(r).guids;
    const region = host(typeof doc.location === 'string' ? doc.location : 'eastus');
    fillProperties(doc, {
      ApplicationId: r.name,
      AppId: appId,
      InstrumentationKey: instrumentationKey,
      ConnectionString:
        `InstrumentationKey=${instrumentationKey};` +
        `IngestionEndpoint=https://${region}-0.in.applicationinsights.azure.com/;` +
        `LiveEndpoint=https://${region}.livediagnostics.monitor.azure.com/;ApplicationId=${appId}`,
      TenantId: r.id.split('/')[2],
      CreationDate: r.createdAt,
    });
  },
});

const sharedKeys = keysAction('sharedKeys', (r) => {
  const [a, b] = mintedOf(r).keys;
  return { primarySharedKey: a.toString('base64'), secondarySharedKey: b.toString('base64') };
});

/** A Log Analytics workspace: its `customerId` and shared keys (`sharedKeys`; `listKeys`, as older files call it). */
const logAnalytics = placeholder({
  type: 'Microsoft.OperationalInsights/workspaces',
  param: 'workspaceName',
  version: '2023-09-01',
  fill: (r, doc) => fillProperties(doc, { customerId: mintedOf(r).guids[0], createdDate: r.createdAt }),
  actions: [sharedKeys, { ...sharedKeys, path: 'listKeys' }],
});

export const insights = placeholderProvider('Microsoft.Insights', [components]);
export const operationalInsights = placeholderProvider('Microsoft.OperationalInsights', [logAnalytics]);
