// Event Grid system topic on the ACS resource: the source of Microsoft.Communication.IncomingCall events.
// Its identity writes undeliverable events to the dead-letter container. The subscription that routes calls
// to the function app is in event-grid-subscription.bicep, deployed once the app's code is (see azure.yaml).
@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Azure Communication Services resource that raises IncomingCall.')
param communicationName string

@description('Resource id of the Event Grid identity (dead-lettering).')
param identityId string

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-acs-${resourceToken}'
  // ACS is a global resource, so is its system topic.
  location: 'global'
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    source: communication.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

output systemTopicName string = systemTopic.name
