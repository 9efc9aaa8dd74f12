/** The node SKUs an inference group can run on, with the instance counts each allows. */
interface CatalogEntry {
  name: string;
  maximum: number;
  scaleType: 'Automatic' | 'Manual';
}

const CATALOG: CatalogEntry[] = [
  { name: 'Standard_D4as_v4', maximum: 50, scaleType: 'Automatic' },
  { name: 'Standard_D8as_v4', maximum: 50, scaleType: 'Automatic' },
  { name: 'Standard_E8s_v3', maximum: 30, scaleType: 'Automatic' },
  { name: 'Standard_F8s_v2', maximum: 30, scaleType: 'Automatic' },
  { name: 'Standard_NC4as_T4_v3', maximum: 20, scaleType: 'Automatic' },
  { name: 'Standard_NC8as_T4_v3', maximum: 20, scaleType: 'Automatic' },
  { name: 'Standard_NC16as_T4_v3', maximum: 10, scaleType: 'Automatic' },
  { name: 'Standard_NC64as_T4_v3', maximum: 5, scaleType: 'Automatic' },
  { name: 'Standard_NV36ads_A10_v5', maximum: 10, scaleType: 'Automatic' },
  { name: 'Standard_NV72ads_A10_v5', maximum: 5, scaleType: 'Automatic' },
  { name: 'Standard_NC24ads_A100_v4', maximum: 10, scaleType: 'Automatic' },
  { name: 'Standard_NC48ads_A100_v4', maximum: 8, scaleType: 'Automatic' },
  { name: 'Standard_NC96ads_A100_v4', maximum: 4, scaleType: 'Manual' },
  { name: 'Standard_ND96asr_v4', maximum: 4, scaleType: 'Manual' },
  { name: 'Standard_ND96amsr_A100_v4', maximum: 4, scaleType: 'Manual' },
  { name: 'Standard_NC40ads_H100_v5', maximum: 8, scaleType: 'Automatic' },
  { name: 'Standard_NC80adis_H100_v5', maximum: 4, scaleType: 'Manual' },
  { name: 'Standard_ND96isr_H100_v5', maximum: 2, scaleType: 'Manual' },
  { name: 'Standard_ND96isr_H200_v5', maximum: 2, scaleType: 'Manual' },
];

/** SkuResource entries, as InferenceGroups_ListSkus returns them. */
export const SKU_CATALOG = CATALOG.map((e) => ({
  resourceType: 'Microsoft.MachineLearningServices/workspaces/inferencePools/groups',
  sku: { name: e.name, tier: 'Standard' },
  capacity: { minimum: 1, maximum: e.maximum, default: 1, scaleType: e.scaleType },
}));
