// Entry point for `azd up`: everything the ACS call-handling app needs, in one resource group.
// Order (see azure.yaml and docs/deploy.md): provision with a placeholder media image and no Event Grid
// subscription -> azd deploys the function code and the media image -> the postdeploy hook provisions again
// with EVENTGRID_SUBSCRIPTION_ENABLED=true and the pushed image, so Event Grid can validate POST /api/events.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; prefixes the resource group and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region for the resources; it must offer Flex Consumption and Container Apps.')
param location string

@description('Object id of the signed-in developer (azd fills it in). Gets the roles needed to run the apps locally. Empty: none.')
param principalId string = ''

@description('Type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

// ---- calls and email ----

@description('Phone number (E.164, e.g. +14255550123) whose IncomingCall events reach this app. Empty: every number on the ACS resource.')
param phoneNumber string = ''

@minLength(3)
@description('Comma-separated recipients of the call summary email (at most 50).')
param summaryRecipients string

@description('Comma-separated recipients of KPI alerts. Empty: the summary recipients.')
param alertRecipients string = ''

@description('Where ACS and Email store data at rest.')
param acsDataLocation string = 'United States'

@description('Optional customer-managed email domain (e.g. calls.contoso.com). Empty: only the Azure-managed domain.')
param emailCustomDomainName string = ''

@description('Send from the customer-managed domain. Set true after its DNS records verify (docs/deploy.md).')
param emailCustomDomainLinked bool = false

@description('Local part of the sender address (EMAIL_SENDER = <this>@<domain>).')
param emailSenderUsername string = 'DoNotReply'

@description('Audio format of the media stream.')
@allowed([
  'pcm16KMono'
  'pcm24KMono'
])
param mediaAudioFormat string = 'pcm16KMono'

@description('Audio channels streamed: mixed (one stream) or unmixed (one stream per participant).')
@allowed([
  'mixed'
  'unmixed'
])
param mediaAudioChannel string = 'mixed'

@description('DTMF tones on the media socket (enableDtmfTones): on or off.')
@allowed([
  'on'
  'off'
])
param mediaDtmf string = 'on'

@description('Seconds the orchestration waits for CallConnected.')
@minValue(5)
@maxValue(600)
param callConnectTimeoutSeconds int = 45

@description('Restarts of a media or transcription stream lost mid-call, per stream and call (0: never).')
@minValue(0)
@maxValue(10)
param mediaRecoveryAttempts int = 3

@description('Wait before the first restart of a lost stream; each next one waits twice as long.')
@minValue(1)
@maxValue(120)
param mediaRecoveryBackoffSeconds int = 2

@description('Longest call before the app hangs up.')
@minValue(10)
@maxValue(14400)
param maxCallDurationSeconds int = 3600

@description('Days transcripts (and Event Grid dead letters) are kept.')
@minValue(1)
@maxValue(3650)
param retentionDays int = 30

// Call flow (README "Call flow and control API"). Empty means not set: the default flow is answer, stream,
// summarise. The function app validates them at start-up (shared/call_flow_settings.py).
@description('Spoken on connect (TTS); or callGreetingAudioUrl, an https audio file.')
param callGreetingText string = ''
param callGreetingAudioUrl string = ''
@description('Azure neural voice for every spoken prompt.')
param callTtsVoice string = 'en-US-JennyNeural'
@description('DTMF menu prompt and its keys, e.g. "0:transfer,9:hang_up".')
param callMenuPromptText string = ''
param callMenuPromptAudioUrl string = ''
param callMenuOptions string = ''
param callMenuTimeoutSeconds string = ''
param callMenuMaxReprompts string = ''
@description('E.164 number or ACS user id a caller is transferred to.')
param callTransferTarget string = ''
param callTransferFallbackText string = ''
@description('Consultative hand-off (docs/settings.md): hold words or an https hold-music file, how long the agent rings, and the ACS number an agent added by phone sees.')
param callHoldText string = ''
param callHoldAudioUrl string = ''
param callHandoffAnswerSeconds string = ''
param callHandoffCallerId string = ''
@description('Call recording (docs/settings.md): off, audio (one mixed channel) or audio_unmixed (one channel per participant, wav only).')
@allowed([
  'off'
  'audio'
  'audio_unmixed'
])
param callRecording string = 'off'
@description('Recording file format: wav, or mp3 (mixed audio only).')
@allowed([
  'wav'
  'mp3'
])
param callRecordingFormat string = 'wav'
@description('When a recording starts: api (the control API) or connect (after the consent notice; needs callRecording).')
@allowed([
  'api'
  'connect'
])
param callRecordingStart string = 'api'
@description('Consent notice played before a recording starts at connect: spoken text, or an https audio file instead.')
param callRecordingConsentText string = ''
param callRecordingConsentAudioUrl string = ''
@description('Answer policy (docs/settings.md): comma-separated E.164 numbers rejected with forbidden.')
param callBlockedCallers string = ''
@description('The media host\'s health route asked before each answer (e.g. https://<media fqdn>/healthz); empty: capacity not checked.')
param mediaHostHealthUrl string = ''
@description('Live calls at which further calls overflow; needs mediaHostHealthUrl. Empty: only the media host\'s own limit.')
param maxConcurrentCalls string = ''
@description('E.164 number or ACS user id a call is redirected to when there is no room; empty: rejected with busy.')
param callOverflowTarget string = ''
@description('Outbound calls (POST /api/calls): E.164 number of the ACS resource or ACS user id calls are placed from; empty: outbound calls are refused (409 not_configured).')
param acsCallerId string = ''
@description('Outbound calls the app may place per minute, across all its instances (1 to 3000); empty: 10.')
param outboundCallsPerMinute string = ''
@description('Seconds a dialed outbound call may ring before the app cancels it (5 to 300); empty: 45.')
param outboundDialTimeoutSeconds string = ''
@description('Comma-separated addresses of the daily call digest; empty: no digest.')
param digestEmailTo string = ''
@description('HH:MM (in callTimezone, else UTC) from which the previous day\'s digest is sent; empty: 07:00.')
param digestTime string = ''
@description('Weekly opening hours, e.g. "mon-fri 09:00-17:30; sat 10:00-14:00"; empty: always open.')
param callBusinessHours string = ''
@description('IANA time zone of callBusinessHours, e.g. Europe/Berlin.')
param callTimezone string = ''
@description('E.164 number or ACS user id a call outside business hours is redirected to; empty: rejected.')
param callAfterHoursTarget string = ''
@description('Outside business hours: reject, redirect or message; empty: redirect with a target, else reject.')
param callAfterHoursAction string = ''
@description('After-hours message spoken before hanging up (callAfterHoursAction=message).')
param callAfterHoursText string = ''
@description('After-hours message as an https audio file, instead of callAfterHoursText.')
param callAfterHoursAudioUrl string = ''
@description('Seconds without caller speech before a re-prompt; 0 turns silence handling off.')
param callerSilenceSeconds string = ''
param callSilencePromptText string = ''
param callSilenceMaxPrompts string = ''
param callGoodbyeText string = ''
@description('Existing Azure AI services endpoint ACS uses for text-to-speech prompts and real-time transcription (ACS_COGNITIVE_SERVICES_ENDPOINT), e.g. https://my-ai.cognitiveservices.azure.com/. Empty: this template creates one and connects it to ACS. Given: nothing is created, and the ACS identity needs Cognitive Services User on that resource (docs/deploy.md).')
param acsCognitiveServicesEndpoint string = ''

@description('Real-time transcription at answer (CALL_TRANSCRIPTION): on, or off (then only the control API\'s start_transcription starts it). Empty: on whenever an AI services endpoint is set.')
@allowed([
  ''
  'on'
  'off'
])
param callTranscription string = ''

@description('Locale ACS transcribes calls in (CALL_TRANSCRIPTION_LOCALE), e.g. en-US. Empty: the app\'s default, en-US.')
param callTranscriptionLocale string = ''

@description('OpenID configuration of ACS callback and WebSocket JWTs.')
param acsOpenIdConfigUrl string = 'https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration'

@description('Entra app (client) id Event Grid authenticates its deliveries to /api/events for (EVENTGRID_AAD_APP_ID). Empty: the function key alone.')
param eventGridAadAppId string = ''

// ---- voice processor (media host) ----

@description('Voice processor of the media host (VOICE_PROCESSOR): transcribe, echo, or realtime (needs REALTIME_ENDPOINT and REALTIME_DEPLOYMENT).')
@allowed([
  'transcribe'
  'echo'
  'realtime'
])
param voiceProcessor string = 'transcribe'

@description('Realtime voice endpoint (REALTIME_ENDPOINT): an Azure OpenAI resource (GA), .../openai/realtime (preview) or https://<foundry>.services.ai.azure.com/voice-live (Voice Live; the media identity gets Cognitive Services User on that resource when it is in this resource group). Empty: unused.')
param realtimeEndpoint string = ''

@description('Realtime model deployment name (REALTIME_DEPLOYMENT).')
param realtimeDeployment string = ''

@description('Realtime voice (REALTIME_VOICE).')
param realtimeVoice string = ''

@description('Instructions for the realtime voice (REALTIME_INSTRUCTIONS).')
param realtimeInstructions string = ''

@description('API version of the realtime endpoint (REALTIME_API_VERSION): empty for the GA endpoint, required for preview and Voice Live.')
param realtimeApiVersion string = ''

@description('Model that transcribes the caller in realtime mode (REALTIME_TRANSCRIPTION_MODEL). Empty: the app\'s default.')
param realtimeTranscriptionModel string = ''

// ---- secrets and deployment order ----

@secure()
@minLength(32)
@description('CALL_TOKEN_SECRET. The preprovision hook generates it once per azd environment; it is stored in Key Vault.')
param callTokenSecret string

@description('Media host image pushed by azd (SERVICE_MEDIA_IMAGE_NAME). Empty on the first provision: a placeholder runs.')
param mediaImageName string = ''

@description('Create the IncomingCall subscription. False until the function code is deployed (the postdeploy hook sets it).')
param eventGridSubscriptionEnabled bool = false

@description('Call recordings go to the storage account\'s recordings container (bring-your-own-storage). False: ACS keeps them and the app downloads each file after RecordingFileStatusUpdated.')
param recordingToOwnStorage bool = true

// ---- sizing ----

@description('Media host replicas that always run (>= 1: ACS cannot wait for a cold start).')
@minValue(1)
param mediaMinReplicas int = 1

@description('Seconds a media host replica drains calls after SIGTERM (Container Apps maximum: 600).')
@minValue(30)
@maxValue(600)
param mediaTerminationGracePeriodSeconds int = 600

@description('Function instances kept warm for HTTP (IncomingCall must be answered within seconds).')
@minValue(0)
param alwaysReadyHttpInstances int = 1

@description('Reject Application Insights ingestion that is not Entra ID-authenticated.')
param appInsightsLocalAuthDisabled bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var deploymentContainerName = 'deployment-package'
var transcriptsContainerName = 'transcripts'
var deadLetterContainerName = 'eventgrid-deadletter'
var recordingsContainerName = 'recordings'
var callTokenSecretName = 'call-token-secret'
var mediaPort = 8080
// Computed, not read from the site, so the media host can call the function app without a dependency cycle.
var functionAppName = 'func-${resourceToken}'
var callbackBaseUrl = 'https://${functionAppName}.azurewebsites.net'
// A Voice Live endpoint (https://<name>.services.ai.azure.com/voice-live) names its Foundry resource in its host;
// the media identity gets Voice Live's role on it. take/last/first keep an empty endpoint from failing.
var realtimeHost = last(take(split(realtimeEndpoint, '/'), 3))
var voiceLiveAccountName = contains(toLower(realtimeEndpoint), '/voice-live') ? first(split(realtimeHost, '.')) : ''

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appInsightsLocalAuthDisabled: appInsightsLocalAuthDisabled
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    deploymentContainerName: deploymentContainerName
    transcriptsContainerName: transcriptsContainerName
    recordingsContainerName: recordingsContainerName
    deadLetterContainerName: deadLetterContainerName
    retentionDays: retentionDays
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    callTokenSecret: callTokenSecret
    callTokenSecretName: callTokenSecretName
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    tags: tags
    resourceToken: resourceToken
    dataLocation: acsDataLocation
    emailCustomDomainName: emailCustomDomainName
    emailCustomDomainLinked: emailCustomDomainLinked
    emailSenderUsername: emailSenderUsername
  }
}

// Created unless an existing endpoint is given: ACS needs one for text prompts and for every transcript.
var createAiServices = empty(acsCognitiveServicesEndpoint)

module aiServices 'modules/ai-services.bicep' = if (createAiServices) {
  name: 'ai-services'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    communicationPrincipalId: communication.outputs.principalId
  }
}

// The ternary reads the module's output only when it is deployed (ARM evaluates just the branch taken).
var cognitiveServicesEndpoint = createAiServices ? aiServices.outputs.endpoint : acsCognitiveServicesEndpoint

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.storageAccountName
    transcriptsContainerName: storage.outputs.transcriptsContainerName
    recordingsContainerName: storage.outputs.recordingsContainerName
    communicationPrincipalId: communication.outputs.principalId
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    vaultName: keyVault.outputs.vaultName
    callTokenSecretName: keyVault.outputs.callTokenSecretName
    communicationName: communication.outputs.communicationName
    registryName: registry.outputs.registryName
    appInsightsName: monitoring.outputs.appInsightsName
    functionPrincipalId: identities.outputs.functionIdentityPrincipalId
    mediaPrincipalId: identities.outputs.mediaIdentityPrincipalId
    eventGridPrincipalId: identities.outputs.eventGridIdentityPrincipalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
    voiceLiveAccountName: voiceLiveAccountName
  }
}

var answerPolicySettings = [
  {
    name: 'CALL_BLOCKED_CALLERS'
    value: callBlockedCallers
  }
  {
    name: 'MEDIA_HOST_HEALTH_URL'
    value: mediaHostHealthUrl
  }
  {
    name: 'MAX_CONCURRENT_CALLS'
    value: maxConcurrentCalls
  }
  {
    name: 'CALL_OVERFLOW_TARGET'
    value: callOverflowTarget
  }
  {
    name: 'CALL_BUSINESS_HOURS'
    value: callBusinessHours
  }
  {
    name: 'CALL_TIMEZONE'
    value: callTimezone
  }
  {
    name: 'CALL_AFTER_HOURS_TARGET'
    value: callAfterHoursTarget
  }
  {
    name: 'CALL_AFTER_HOURS_ACTION'
    value: callAfterHoursAction
  }
  {
    name: 'CALL_AFTER_HOURS_TEXT'
    value: callAfterHoursText
  }
  {
    name: 'CALL_AFTER_HOURS_AUDIO_URL'
    value: callAfterHoursAudioUrl
  }
]

var digestSettings = [
  {
    name: 'DIGEST_EMAIL_TO'
    value: digestEmailTo
  }
  {
    name: 'DIGEST_TIME'
    value: digestTime
  }
]

var outboundCallSettings = [
  {
    name: 'ACS_CALLER_ID'
    value: acsCallerId
  }
  {
    name: 'OUTBOUND_CALLS_PER_MINUTE'
    value: outboundCallsPerMinute
  }
  {
    name: 'OUTBOUND_DIAL_TIMEOUT_SECONDS'
    value: outboundDialTimeoutSeconds
  }
]

// Call recording and its consent notice (shared/recording_settings.py, shared/call_flow_settings.py).
var recordingSettings = [
  {
    name: 'CALL_RECORDING'
    value: callRecording
  }
  {
    name: 'CALL_RECORDING_FORMAT'
    value: callRecordingFormat
  }
  {
    name: 'CALL_RECORDING_START'
    value: callRecordingStart
  }
  {
    name: 'CALL_RECORDING_CONSENT_TEXT'
    value: callRecordingConsentText
  }
  {
    name: 'CALL_RECORDING_CONSENT_AUDIO_URL'
    value: callRecordingConsentAudioUrl
  }
]

var callFlowSettings = [
  {
    name: 'CALL_GREETING_TEXT'
    value: callGreetingText
  }
  {
    name: 'CALL_GREETING_AUDIO_URL'
    value: callGreetingAudioUrl
  }
  {
    name: 'CALL_TTS_VOICE'
    value: callTtsVoice
  }
  {
    name: 'CALL_MENU_PROMPT_TEXT'
    value: callMenuPromptText
  }
  {
    name: 'CALL_MENU_PROMPT_AUDIO_URL'
    value: callMenuPromptAudioUrl
  }
  {
    name: 'CALL_MENU_OPTIONS'
    value: callMenuOptions
  }
  {
    name: 'CALL_MENU_TIMEOUT_SECONDS'
    value: callMenuTimeoutSeconds
  }
  {
    name: 'CALL_MENU_MAX_REPROMPTS'
    value: callMenuMaxReprompts
  }
  {
    name: 'CALL_TRANSFER_TARGET'
    value: callTransferTarget
  }
  {
    name: 'CALL_TRANSFER_FALLBACK_TEXT'
    value: callTransferFallbackText
  }
  {
    name: 'CALL_HOLD_TEXT'
    value: callHoldText
  }
  {
    name: 'CALL_HOLD_AUDIO_URL'
    value: callHoldAudioUrl
  }
  {
    name: 'CALL_HANDOFF_ANSWER_SECONDS'
    value: callHandoffAnswerSeconds
  }
  {
    name: 'CALL_HANDOFF_CALLER_ID'
    value: callHandoffCallerId
  }
  {
    name: 'CALLER_SILENCE_SECONDS'
    value: callerSilenceSeconds
  }
  {
    name: 'CALL_SILENCE_PROMPT_TEXT'
    value: callSilencePromptText
  }
  {
    name: 'CALL_SILENCE_MAX_PROMPTS'
    value: callSilenceMaxPrompts
  }
  {
    name: 'CALL_GOODBYE_TEXT'
    value: callGoodbyeText
  }
  {
    // Text prompts and real-time transcription (shared/transcription_settings.py).
    name: 'ACS_COGNITIVE_SERVICES_ENDPOINT'
    value: cognitiveServicesEndpoint
  }
  {
    name: 'CALL_TRANSCRIPTION'
    value: callTranscription
  }
  {
    name: 'CALL_TRANSCRIPTION_LOCALE'
    value: callTranscriptionLocale
  }
]

// Settings both apps read (shared/settings.py); names are fixed by the app.
var sharedSettings = [
  {
    name: 'ACS_RESOURCE_ID'
    value: communication.outputs.immutableResourceId
  }
  {
    name: 'ACS_OPENID_CONFIG_URL'
    value: acsOpenIdConfigUrl
  }
  {
    name: 'CALLBACK_BASE_URL'
    value: callbackBaseUrl
  }
  {
    name: 'TRANSCRIPTS_CONTAINER'
    value: transcriptsContainerName
  }
  {
    name: 'MEDIA_AUDIO_FORMAT'
    value: mediaAudioFormat
  }
  {
    name: 'MEDIA_AUDIO_CHANNEL'
    value: mediaAudioChannel
  }
  {
    name: 'MEDIA_DTMF'
    value: mediaDtmf
  }
  {
    name: 'MAX_CALL_DURATION_SECONDS'
    value: string(maxCallDurationSeconds)
  }
  {
    name: 'VOICE_PROCESSOR'
    value: voiceProcessor
  }
  {
    name: 'RETENTION_DAYS'
    value: string(retentionDays)
  }
]

module containerApps 'modules/container-apps.bicep' = {
  name: 'container-apps'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    imageName: mediaImageName
    registryLoginServer: registry.outputs.loginServer
    identityId: identities.outputs.mediaIdentityId
    identityClientId: identities.outputs.mediaIdentityClientId
    callTokenSecretUri: keyVault.outputs.callTokenSecretUri
    port: mediaPort
    minReplicas: mediaMinReplicas
    terminationGracePeriodSeconds: mediaTerminationGracePeriodSeconds
    environmentVariables: concat(sharedSettings, [
      {
        name: 'AzureWebJobsStorage__accountName'
        value: storage.outputs.storageAccountName
      }
      {
        name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
        value: monitoring.outputs.appInsightsConnectionString
      }
      {
        name: 'REALTIME_ENDPOINT'
        value: realtimeEndpoint
      }
      {
        name: 'REALTIME_DEPLOYMENT'
        value: realtimeDeployment
      }
      {
        name: 'REALTIME_VOICE'
        value: realtimeVoice
      }
      {
        name: 'REALTIME_INSTRUCTIONS'
        value: realtimeInstructions
      }
      {
        name: 'REALTIME_API_VERSION'
        value: realtimeApiVersion
      }
      {
        name: 'REALTIME_TRANSCRIPTION_MODEL'
        value: realtimeTranscriptionModel
      }
      {
        // The media host reports caller silence to the function app (the flow's silence handling).
        name: 'CALLER_SILENCE_SECONDS'
        value: callerSilenceSeconds
      }
    ])
  }
  // The image pull (AcrPull) and the Key Vault secret reference are checked when the app is created.
  dependsOn: [
    roles
  ]
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    location: location
    tags: tags
    functionAppName: functionAppName
    resourceToken: resourceToken
    storageAccountName: storage.outputs.storageAccountName
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    identityId: identities.outputs.functionIdentityId
    identityClientId: identities.outputs.functionIdentityClientId
    callTokenSecretUri: keyVault.outputs.callTokenSecretUri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    appSettings: concat(sharedSettings, callFlowSettings, answerPolicySettings, outboundCallSettings, digestSettings,
                        recordingSettings, [
      {
        name: 'ACS_ENDPOINT'
        value: communication.outputs.endpoint
      }
      {
        name: 'EVENTGRID_AAD_APP_ID'
        value: eventGridAadAppId
      }
      {
        name: 'EVENTGRID_AAD_TENANT_ID'
        value: empty(eventGridAadAppId) ? '' : tenant().tenantId
      }
      {
        name: 'MEDIA_HOST_WSS_URL'
        value: 'wss://${containerApps.outputs.mediaFqdn}'
      }
      {
        name: 'EMAIL_SENDER'
        value: communication.outputs.emailSender
      }
      {
        name: 'SUMMARY_RECIPIENTS'
        value: summaryRecipients
      }
      {
        name: 'CALL_CONNECT_TIMEOUT_SECONDS'
        value: string(callConnectTimeoutSeconds)
      }
      {
        // Bring-your-own-storage (shared/recording_settings.py); empty: ACS keeps the file, the app downloads it.
        name: 'RECORDING_STORAGE_CONTAINER_URL'
        value: recordingToOwnStorage ? '${storage.outputs.blobEndpoint}${recordingsContainerName}' : ''
      }
      {
        name: 'MEDIA_RECOVERY_ATTEMPTS'
        value: string(mediaRecoveryAttempts)
      }
      {
        name: 'MEDIA_RECOVERY_BACKOFF_SECONDS'
        value: string(mediaRecoveryBackoffSeconds)
      }
    ])
  }
  // The host needs its storage roles at first start; the Key Vault reference needs the secret role.
  dependsOn: [
    roles
  ]
}

module eventGridTopic 'modules/event-grid-topic.bicep' = {
  name: 'event-grid-topic'
  scope: rg
  params: {
    tags: tags
    resourceToken: resourceToken
    communicationName: communication.outputs.communicationName
    identityId: identities.outputs.eventGridIdentityId
  }
}

module eventGridSubscription 'modules/event-grid-subscription.bicep' = if (eventGridSubscriptionEnabled) {
  name: 'event-grid-subscription'
  scope: rg
  params: {
    systemTopicName: eventGridTopic.outputs.systemTopicName
    functionAppName: functionApp.outputs.functionAppName
    phoneNumber: phoneNumber
    storageAccountId: storage.outputs.storageAccountId
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    identityId: identities.outputs.eventGridIdentityId
  }
  // Dead-lettering is validated with the topic identity's role on the container.
  dependsOn: [
    roles
  ]
}

// RecordingFileStatusUpdated to POST /api/recording-events: the app downloads files ACS keeps, and notes the
// ones written to the recordings container. Same ordering as the IncomingCall subscription (the function's key).
module recordingFileSubscription 'modules/recording-file-subscription.bicep' = if (eventGridSubscriptionEnabled) {
  name: 'recording-file-subscription'
  scope: rg
  params: {
    systemTopicName: eventGridTopic.outputs.systemTopicName
    functionAppName: functionApp.outputs.functionAppName
    storageAccountId: storage.outputs.storageAccountId
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    identityId: identities.outputs.eventGridIdentityId
  }
  dependsOn: [
    roles
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appInsightsName: monitoring.outputs.appInsightsName
    alertRecipients: empty(alertRecipients) ? summaryRecipients : alertRecipients
  }
}

// ---- outputs: azd writes them to .azure/<env>/.env; names follow azd's UPPER_CASE convention ----
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.registryName
output AZURE_CONTAINER_ENVIRONMENT_NAME string = containerApps.outputs.environmentName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.vaultName
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.vaultUri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.storageAccountName
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.functionAppName
output AZURE_MEDIA_APP_NAME string = containerApps.outputs.mediaAppName
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGridTopic.outputs.systemTopicName
output AZURE_COMMUNICATION_SERVICES_NAME string = communication.outputs.communicationName
output AZURE_EMAIL_SERVICE_NAME string = communication.outputs.emailServiceName
// Not named ACS_COGNITIVE_SERVICES_ENDPOINT: azd would feed an output of that name back into the parameter on
// the next provision, and the template would then take its own resource for an existing one.
output AZURE_AI_SERVICES_ENDPOINT string = cognitiveServicesEndpoint
output AZURE_AI_SERVICES_NAME string = createAiServices ? aiServices.outputs.accountName : ''
output CALL_TOKEN_SECRET_NAME string = callTokenSecretName
output MEDIA_USES_PLACEHOLDER_IMAGE bool = empty(mediaImageName)
output EVENTGRID_SUBSCRIPTION_DEPLOYED bool = eventGridSubscriptionEnabled
output ACS_ENDPOINT string = communication.outputs.endpoint
output ACS_RESOURCE_ID string = communication.outputs.immutableResourceId
output ACS_OPENID_CONFIG_URL string = acsOpenIdConfigUrl
output CALLBACK_BASE_URL string = callbackBaseUrl
output MEDIA_HOST_WSS_URL string = 'wss://${containerApps.outputs.mediaFqdn}'
output MEDIA_HOST_PORT string = string(mediaPort)
output EMAIL_SENDER string = communication.outputs.emailSender
output SUMMARY_RECIPIENTS string = summaryRecipients
output TRANSCRIPTS_CONTAINER string = transcriptsContainerName
output MEDIA_AUDIO_FORMAT string = mediaAudioFormat
output CALL_CONNECT_TIMEOUT_SECONDS string = string(callConnectTimeoutSeconds)
output MAX_CALL_DURATION_SECONDS string = string(maxCallDurationSeconds)
output RETENTION_DAYS string = string(retentionDays)
output VOICE_PROCESSOR string = voiceProcessor
output REALTIME_ENDPOINT string = realtimeEndpoint
output REALTIME_DEPLOYMENT string = realtimeDeployment
output REALTIME_VOICE string = realtimeVoice
output REALTIME_INSTRUCTIONS string = realtimeInstructions
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.appInsightsConnectionString
