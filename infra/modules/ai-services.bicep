// Azure AI services (multi-service) resource connected to ACS: ACS speaks the call flow's text prompts and
// transcribes calls in real time with it, signing in with the ACS resource's system-assigned identity.
// "Connect Azure Communication Services with Azure AI services" (learn.microsoft.com, communication-services/
// concepts/call-automation/azure-communication-services-azure-cognitive-services-integration): only a
// multi-service resource is supported, and the connection is the Cognitive Services User role for the ACS
// identity on it. main.bicep deploys this module only when no existing endpoint is given.
@description('Azure region of the resource (Speech regions: learn.microsoft.com, ai-services/speech-service/regions).')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique; also the custom subdomain, which Entra ID tokens need.')
param resourceToken string

@description('Principal id of the ACS resource\'s system-assigned identity.')
param communicationPrincipalId string

// Built-in role "Cognitive Services User" (the same id in every tenant; Azure built-in roles, AI + machine
// learning). The role the integration page names for the ACS identity.
var cognitiveServicesUser = 'a97b65f3-24c7-4388-baec-2e87135dc908'
var accountName = 'ais-${resourceToken}'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  // checkov:skip=CKV_AZURE_134: ACS reaches the resource from the Microsoft network over its public endpoint; there is no private network in this deployment and access needs an Entra ID role (local auth is off).
  // checkov:skip=CKV_AZURE_238: the resource calls nothing else (no customer-managed keys or storage), so an identity of its own would hold no role; ACS uses its identity to call it.
  name: accountName
  location: location
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  properties: {
    // Entra ID tokens (the ACS identity's) are accepted only on a custom subdomain endpoint.
    customSubDomainName: accountName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// why: ACS calls this resource with its system-assigned identity to speak text prompts and to transcribe calls
// in real time; Cognitive Services User is the role the ACS integration requires, on this one account only.
resource acsCognitiveServicesUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, communicationPrincipalId, cognitiveServicesUser)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUser)
    principalId: communicationPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output accountName string = account.name
// https://<subdomain>.cognitiveservices.azure.com/: the value of ACS_COGNITIVE_SERVICES_ENDPOINT.
output endpoint string = account.properties.endpoint
