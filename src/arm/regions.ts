/** The Azure regions amlite offers (what `/providers` and `/subscriptions/{id}/locations` list). */
export interface Region {
  name: string;
  displayName: string;
  geographyGroup: string;
  latitude: string;
  longitude: string;
}

const region = (name: string, displayName: string, geographyGroup: string, latitude: string, longitude: string) => ({
  name,
  displayName,
  geographyGroup,
  latitude,
  longitude,
});

export const REGIONS: readonly Region[] = [
  region('eastus', 'East US', 'US', '37.3719', '-79.8164'),
  region('eastus2', 'East US 2', 'US', '36.6681', '-78.3889'),
  region('westus', 'West US', 'US', '37.783', '-122.417'),
  region('westus2', 'West US 2', 'US', '47.233', '-119.852'),
  region('westus3', 'West US 3', 'US', '33.448376', '-112.074036'),
  region('centralus', 'Central US', 'US', '41.5908', '-93.6208'),
  region('northcentralus', 'North Central US', 'US', '41.8819', '-87.6278'),
  region('southcentralus', 'South Central US', 'US', '29.4167', '-98.5'),
  region('westeurope', 'West Europe', 'Europe', '52.3667', '4.9'),
  region('northeurope', 'North Europe', 'Europe', '53.3478', '-6.2597'),
  region('uksouth', 'UK South', 'UK', '50.941', '-0.799'),
  region('francecentral', 'France Central', 'Europe', '46.3772', '2.373'),
  region('germanywestcentral', 'Germany West Central', 'Europe', '50.110924', '8.682127'),
  region('swedencentral', 'Sweden Central', 'Europe', '60.67488', '17.14127'),
  region('switzerlandnorth', 'Switzerland North', 'Europe', '47.451542', '8.564572'),
  region('japaneast', 'Japan East', 'Asia Pacific', '35.68', '139.77'),
  region('koreacentral', 'Korea Central', 'Asia Pacific', '37.5665', '126.978'),
  region('australiaeast', 'Australia East', 'Asia Pacific', '-33.86', '151.2094'),
  region('canadacentral', 'Canada Central', 'Canada', '43.653', '-79.383'),
  region('southeastasia', 'Southeast Asia', 'Asia Pacific', '1.283', '103.833'),
  region('centralindia', 'Central India', 'India', '18.5822', '73.9197'),
  region('brazilsouth', 'Brazil South', 'South America', '-23.55', '-46.633'),
];
