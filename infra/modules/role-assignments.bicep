// Every role assignment of the deployment, in one place, each scoped as narrowly as the service allows.
// The comment above each assignment says why it is needed; tests/infra checks that every one has one.
@description('Storage account of the Functions host, task hub, transcripts and dead letters.')
param storageAccountName string

@description('Blob container for call transcripts.')
param transcriptsContainerName string

@description('Blob container ACS writes call recordings into (bring-your-own-storage).')
param recordingsContainerName string

@description('Principal id of the ACS resource\'s system-assigned identity.')
param communicationPrincipalId string

@description('Blob container for Event Grid dead letters.')
param deadLetterContainerName string

@description('Key Vault that holds CALL_TOKEN_SECRET.')
param vaultName string

@description('Name of the CALL_TOKEN_SECRET secret.')
param callTokenSecretName string

@description('Azure Communication Services resource.')
param communicationName string

@description('Container registry of the media host image.')
param registryName string

@description('Application Insights component.')
param appInsightsName string

@description('Principal id of the function app identity.')
param functionPrincipalId string

@description('Principal id of the media host identity.')
param mediaPrincipalId string

@description('Principal id of the Event Grid system topic identity.')
param eventGridPrincipalId string

@description('Name of the Foundry (AI services) resource behind a Voice Live REALTIME_ENDPOINT, in this resource group (empty: no Voice Live).')
param voiceLiveAccountName string = ''

@description('Principal id of the developer running azd (empty: none). Lets them run the apps locally against the cloud resources.')
param developerPrincipalId string = ''

@description('Principal type of developerPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param developerPrincipalType string = 'User'

// Built-in role definition ids (the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
// "Communication and Email Service Owner": the only built-in role that grants the ACS data actions used by
// Call Automation (answer, hang up, media) and Email (send). There is no narrower built-in role; a custom role
// would need the same data actions, so it is scoped to the one ACS resource instead.
var communicationAndEmailServiceOwner = '09976791-48a7-449e-bb21-39d1a415f350'
// "Cognitive Services User": Voice Live with Entra ID needs it (Cognitive Services OpenAI User is not enough).
var cognitiveServicesUser = 'a97b65f3-24c7-4388-baec-2e87135dc908'

var hasDeveloper = !empty(developerPrincipalId)
var hasVoiceLive = !empty(voiceLiveAccountName)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource transcriptsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: transcriptsContainerName
}

resource recordingsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: recordingsContainerName
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource callTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: callTokenSecretName
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource voiceLiveAccount 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (hasVoiceLive) {
  name: voiceLiveAccountName
}

// ---- function app identity ----

// why: the Functions host keeps its leases, keys and timers in blobs of AzureWebJobsStorage (identity-based
// connection); the documented minimum for the host is Storage Blob Data Owner. It also covers the Flex
// deployment-package container, the Durable task hub's blobs and reading transcripts for the summary email.
resource functionBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionPrincipalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: Durable Functions (Azure Storage provider) dispatches orchestration and activity messages through the
// task hub's control and work-item queues.
resource functionQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionPrincipalId, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: Durable Functions keeps the task hub's instance and history tables in Table storage.
resource functionTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionPrincipalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: the function app answers and hangs up calls (Call Automation) and sends the summary (Email) with
// DefaultAzureCredential instead of the ACS access key; scoped to this ACS resource only.
resource functionCommunication 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, functionPrincipalId, communicationAndEmailServiceOwner)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationAndEmailServiceOwner)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: the CALL_TOKEN_SECRET app setting is a Key Vault reference resolved with this identity; read access to
// this one secret only.
resource functionSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(callTokenSecret.id, functionPrincipalId, keyVaultSecretsUser)
  scope: callTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: the Functions host and the app's exporters send telemetry and the KPI metrics with Entra ID
// (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), which keeps working when local auth is disabled.
resource functionMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- ACS resource identity ----

// why: bring-your-own-storage: ACS writes each call recording into the recordings container with its
// system-assigned identity ("Bring your own storage", Call Recording docs: Storage Blob Data Contributor for
// the ACS resource's managed identity); scoped to that one container.
resource communicationRecordingsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(recordingsContainer.id, communicationPrincipalId, storageBlobDataContributor)
  scope: recordingsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: communicationPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- media host identity ----

// why: the media host writes each call's transcript to the transcripts container; scoped to that container,
// it cannot touch the host's or the task hub's data.
resource mediaTranscriptsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(transcriptsContainer.id, mediaPrincipalId, storageBlobDataContributor)
  scope: transcriptsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: mediaPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: Container Apps pulls the media host image from this registry with the media identity (no admin user).
resource mediaAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, mediaPrincipalId, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: mediaPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: the media host verifies per-call tokens in the WebSocket path with CALL_TOKEN_SECRET, a Container Apps
// secret that references Key Vault through this identity; read access to this one secret only.
resource mediaSecretUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(callTokenSecret.id, mediaPrincipalId, keyVaultSecretsUser)
  scope: callTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: mediaPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: the media host publishes media.frame_latency and its traces to Application Insights with Entra ID.
resource mediaMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, mediaPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: mediaPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// why: with VOICE_PROCESSOR=realtime on a Voice Live endpoint and no REALTIME_API_KEY, the media host signs in
// to Voice Live with its identity (token scope https://ai.azure.com/.default); Voice Live requires Cognitive
// Services User on the Foundry resource. Scoped to that one resource, and only when one is configured.
resource mediaVoiceLiveUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasVoiceLive) {
  name: guid(voiceLiveAccount.id, mediaPrincipalId, cognitiveServicesUser)
  scope: voiceLiveAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUser)
    principalId: mediaPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Event Grid system topic identity ----

// why: Event Grid writes IncomingCall events it could not deliver to the dead-letter container with the system
// topic's identity (deadLetterWithResourceIdentity); scoped to that container only.
resource eventGridDeadLetterContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, eventGridPrincipalId, storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: eventGridPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- developer (optional; azd passes the signed-in user's id) ----

// why: running the apps locally (docs/deploy.md) needs CALL_TOKEN_SECRET; the developer reads it, and can
// rotate it, in this vault only.
resource developerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeveloper) {
  name: guid(vault.id, developerPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// why: a locally running function app answers calls and sends email as the developer (DefaultAzureCredential
// with no ACS_ACCESS_KEY); scoped to this ACS resource only.
resource developerCommunication 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeveloper) {
  name: guid(communication.id, developerPrincipalId, communicationAndEmailServiceOwner)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationAndEmailServiceOwner)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// why: a locally running media host writes transcripts to the cloud container as the developer.
resource developerTranscriptsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (hasDeveloper) {
  name: guid(transcriptsContainer.id, developerPrincipalId, storageBlobDataContributor)
  scope: transcriptsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}
