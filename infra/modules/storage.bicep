// Storage for the Functions host, the Durable task hub, the Flex deployment package, call transcripts and
// Event Grid dead letters. Entra ID only: shared keys are off, so nothing holds a storage key.
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Blob container for the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container for call transcripts.')
param transcriptsContainerName string

@description('Blob container ACS writes call recordings into (bring-your-own-storage).')
param recordingsContainerName string

@description('Blob container for IncomingCall events Event Grid could not deliver.')
param deadLetterContainerName string

@description('Days transcripts and dead letters are kept before the lifecycle policy deletes them.')
@minValue(1)
param retentionDays int

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_43: the name is 'st' + uniqueString(), 15 lowercase letters and digits; the check cannot evaluate the interpolation.
  // checkov:skip=CKV_AZURE_35: Flex Consumption without VNet integration, Event Grid dead-lettering and the media host reach the account over public endpoints; access is Entra ID only (shared keys off).
  // checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35: no private network in this deployment; all data-plane access needs an Entra ID role.
  // checkov:skip=CKV_AZURE_206: LRS is enough: transcripts are kept a few days and the task hub is transient; GRS doubles cost for no recovery need.
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource transcriptsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: transcriptsContainerName
  properties: {
    publicAccess: 'None'
  }
}

// ACS writes each recording here with its system-assigned identity (role-assignments.bicep).
resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: recordingsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Transcripts hold personal data: delete them after the retention period, whatever the app does.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-transcripts-and-dead-letters'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${transcriptsContainerName}/'
                '${recordingsContainerName}/'
                '${deadLetterContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: retentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    transcriptsContainer
    recordingsContainer
    deadLetterContainer
  ]
}

output storageAccountName string = storage.name
output storageAccountId string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainerName string = deploymentContainer.name
output transcriptsContainerName string = transcriptsContainer.name
output deadLetterContainerName string = deadLetterContainer.name
output recordingsContainerName string = recordingsContainer.name
