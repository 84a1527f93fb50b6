// Azure Container Registry for the media host image. Pull is by managed identity (AcrPull), never admin keys.
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: azd pushes from the developer's machine and Container Apps pulls without VNet; access needs an Entra ID role.
  // checkov:skip=CKV_AZURE_163: vulnerability scanning is Defender for Containers, a subscription-level plan outside this template.
  // checkov:skip=CKV_AZURE_166: quarantine needs Premium and a scanner that releases images; not used.
  name: 'cr${resourceToken}'
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output registryName string = registry.name
output registryId string = registry.id
output loginServer string = registry.properties.loginServer
