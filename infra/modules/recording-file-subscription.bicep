// Routes Microsoft.Communication.RecordingFileStatusUpdated to the function app's `recording_events` HTTP route
// (POST /api/recording-events), its own subscription beside the IncomingCall one (event-grid-subscription.bicep,
// which explains the WebHook destination with the function's own key and why it is deployed after the code).
//
// A recording file waits at ACS for 48 hours ("Call Recording overview": files are kept 48 hours), so unlike a
// ringing call this event can be retried for long; what still fails lands in the dead-letter container.
@description('System topic on the ACS resource.')
param systemTopicName string

@description('Function app that hosts the `recording_events` route.')
param functionAppName string

@description('Name of the HTTP-triggered function behind POST /api/recording-events.')
param recordingEventsFunctionName string = 'recording_events'

@description('Storage account of the dead-letter container.')
param storageAccountId string

@description('Blob container for events that could not be delivered.')
param deadLetterContainerName string

@description('Resource id of the system topic identity that writes dead letters.')
param identityId string

@description('Delivery attempts per event.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes an event is retried before it is dead-lettered (a day: well inside the 48 hours ACS keeps the file).')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource recordingEventsFunction 'Microsoft.Web/sites/functions@2024-04-01' existing = {
  parent: functionApp
  name: recordingEventsFunctionName
}

resource recordingFiles 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: 'recording-file-to-function'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/api/recording-events?code=${recordingEventsFunction.listKeys().default}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.RecordingFileStatusUpdated'
      ]
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

output subscriptionName string = recordingFiles.name
