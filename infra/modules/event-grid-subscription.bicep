// Routes Microsoft.Communication.IncomingCall to the function app's `events` HTTP route (POST /api/events).
//
// Destination: WebHook with the `events` function's own key, read with listKeys. The AzureFunction destination
// type only delivers to Event Grid *trigger* functions; `events` is an HTTP trigger (auth level FUNCTION) that
// also answers the subscription validation handshake itself. A function-specific key opens that one route only.
//
// Order: Event Grid validates the endpoint when the subscription is created, and the function (and its key)
// exists only once azd has deployed the code. main.bicep therefore deploys this module only when
// EVENTGRID_SUBSCRIPTION_ENABLED is true, which the postdeploy hook sets before provisioning again.
@description('System topic on the ACS resource.')
param systemTopicName string

@description('Function app that hosts the `events` route.')
param functionAppName string

@description('Name of the HTTP-triggered function behind POST /api/events.')
param eventsFunctionName string = 'events'

@description('Phone number (E.164, for example +14255550123) whose calls this deployment answers. Empty: every number of the ACS resource.')
param phoneNumber string = ''

@description('Storage account of the dead-letter container.')
param storageAccountId string

@description('Blob container for events that could not be delivered.')
param deadLetterContainerName string

@description('Resource id of the system topic identity that writes dead letters.')
param identityId string

@description('Delivery attempts per event. A ringing call waits only seconds, so few attempts are useful.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 3

@description('Minutes an event is retried before it is dead-lettered. A caller hangs up well within 1 minute.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Exists once azd has deployed the code; its own key (not the host key) authenticates Event Grid.
resource eventsFunction 'Microsoft.Web/sites/functions@2024-04-01' existing = {
  parent: functionApp
  name: eventsFunctionName
}

var phoneFilters = empty(phoneNumber) ? [] : [
  {
    // Routes only the number this deployment owns; other numbers of the same ACS resource stay free.
    operatorType: 'StringIn'
    key: 'data.to.PhoneNumber.Value'
    values: [
      phoneNumber
    ]
  }
]

resource incomingCalls 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: 'incoming-call-to-function'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/api/${eventsFunctionName}?code=${eventsFunction.listKeys().default}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.IncomingCall'
      ]
      enableAdvancedFilteringOnArrays: true
      advancedFilters: phoneFilters
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = incomingCalls.name
