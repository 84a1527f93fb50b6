// Azure Communication Services (Call Automation, phone numbers) and Email Communication Services with an
// Azure-managed sender domain linked to it. A customer-managed domain is optional: it is created when its name
// is given, and linked only after its DNS records are verified (see docs/deploy.md).
@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Where ACS stores data at rest, for example "United States" or "Europe".')
param dataLocation string

@description('Optional customer-managed email domain, for example "calls.contoso.com". Empty: none.')
param emailCustomDomainName string = ''

@description('Link the customer-managed domain to ACS and send from it. Set after its DNS records verify.')
param emailCustomDomainLinked bool = false

@description('Local part of the sender address.')
param emailSenderUsername string = 'DoNotReply'

var useCustomDomain = !empty(emailCustomDomainName)
var sendFromCustomDomain = useCustomDomain && emailCustomDomainLinked

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'ecs-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// The Azure-managed domain (xxxx.azurecomm.net) works at once, with low send limits (docs/deploy.md).
resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (useCustomDomain) {
  parent: emailService
  name: useCustomDomain ? emailCustomDomainName : 'unused.invalid'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = if (useCustomDomain) {
  parent: customDomain
  name: toLower(emailSenderUsername)
  properties: {
    username: emailSenderUsername
    displayName: 'Call summaries'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: 'acs-${resourceToken}'
  location: 'global'
  tags: tags
  // ACS reaches the Azure AI services resource (text-to-speech prompts, real-time transcription) with its
  // system-assigned identity only ("Connect Azure Communication Services with Azure AI services",
  // learn.microsoft.com); modules/ai-services.bicep grants it Cognitive Services User.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dataLocation: dataLocation
    linkedDomains: sendFromCustomDomain ? [managedDomain.id, customDomain.id] : [managedDomain.id]
  }
}

var senderDomain = sendFromCustomDomain ? emailCustomDomainName : managedDomain.properties.mailFromSenderDomain

output communicationName string = communication.name
output communicationId string = communication.id
output endpoint string = 'https://${communication.properties.hostName}'
// The JWT audience of ACS callbacks and of the media WebSocket handshake.
output immutableResourceId string = communication.properties.immutableResourceId
// The identity ACS calls the Azure AI services resource with.
output principalId string = communication.identity.principalId
output emailServiceName string = emailService.name
output emailSender string = '${emailSenderUsername}@${senderDomain}'
output managedSenderDomain string = managedDomain.properties.mailFromSenderDomain
