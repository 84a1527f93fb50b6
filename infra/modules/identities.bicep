// One user-assigned identity per workload, so each gets only the roles it needs (see role-assignments.bicep).
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

// The function app: Functions host storage, Durable task hub, ACS Call Automation and Email, Key Vault secret.
resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-func-${resourceToken}'
  location: location
  tags: tags
}

// The media host: transcripts container, image pull, Key Vault secret.
resource mediaIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-media-${resourceToken}'
  location: location
  tags: tags
}

// The Event Grid system topic: writes undeliverable IncomingCall events to the dead-letter container only.
resource eventGridIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-evgt-${resourceToken}'
  location: location
  tags: tags
}

output functionIdentityId string = functionIdentity.id
output functionIdentityName string = functionIdentity.name
output functionIdentityClientId string = functionIdentity.properties.clientId
output functionIdentityPrincipalId string = functionIdentity.properties.principalId
output mediaIdentityId string = mediaIdentity.id
output mediaIdentityName string = mediaIdentity.name
output mediaIdentityClientId string = mediaIdentity.properties.clientId
output mediaIdentityPrincipalId string = mediaIdentity.properties.principalId
output eventGridIdentityId string = eventGridIdentity.id
output eventGridIdentityName string = eventGridIdentity.name
output eventGridIdentityPrincipalId string = eventGridIdentity.properties.principalId
