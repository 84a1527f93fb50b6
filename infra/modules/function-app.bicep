// The Python 3.11 function app on Flex Consumption (FC1): HTTP routes, Durable orchestrations, email summary.
// The Functions host and the Durable task hub use AzureWebJobsStorage through the user-assigned identity.
@description('Azure region (one that offers Flex Consumption).')
param location string

@description('Tags for every resource.')
param tags object

@description('Name of the function app; its host name is <name>.azurewebsites.net.')
param functionAppName string

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Storage account of AzureWebJobsStorage, the task hub and the deployment package.')
param storageAccountName string

@description('Blob endpoint of that account.')
param blobEndpoint string

@description('Blob container for the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Resource id of the function app identity.')
param identityId string

@description('Client id of the function app identity (AZURE_CLIENT_ID, AzureWebJobsStorage__clientId).')
param identityClientId string

@description('Versionless Key Vault URI of CALL_TOKEN_SECRET.')
param callTokenSecretUri string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('App settings (name/value pairs) besides the host and storage settings set here.')
param appSettings array

@description('Most instances Flex may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Instances kept warm for the HTTP group, so an IncomingCall is answered without a cold start. 0 saves cost.')
@minValue(0)
param alwaysReadyHttpInstances int = 1

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption exists only in some regions and needs alwaysReady instances in each zone; Durable state survives in storage.
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var hostSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    // Flex Consumption with a user-assigned identity needs both __credential and __clientId.
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsightsConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
  {
    name: 'CALL_TOKEN_SECRET'
    value: '@Microsoft.KeyVault(SecretUri=${callTokenSecretUri})'
  }
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17: Event Grid and ACS cannot present client certificates.
  // checkov:skip=CKV_AZURE_78: Flex Consumption has no FTP endpoint, and FTP basic publishing credentials are off (ftpBasicAuth below).
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales instances itself; alwaysReady keeps HTTP instances warm.
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no App Service health-check path; the platform replaces failed instances.
  // checkov:skip=CKV_AZURE_222: ACS callbacks, Event Grid and the media host reach the app over the internet; no private network in this deployment.
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (CALL_TOKEN_SECRET) resolve with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(hostSettings, appSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// azd deploys to Flex with an Entra ID token; publishing with basic (user/password) credentials stays off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output functionAppName string = functionApp.name
output functionAppId string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
