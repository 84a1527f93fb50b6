// Container Apps environment (logs to Log Analytics) and the always-on media host, which terminates the ACS
// bidirectional media-streaming WebSocket at wss://<fqdn>/ws/{instanceId}/{token}.
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Log Analytics workspace that receives the container logs.')
param logAnalyticsName string

@description('Image of the media host in the registry. Empty on the first provision, before azd has pushed one: a public placeholder runs until the postdeploy hook provisions again.')
param imageName string = ''

@description('Login server of the container registry.')
param registryLoginServer string

@description('Resource id of the media host identity (AcrPull, Key Vault secret, transcripts container).')
param identityId string

@description('Client id of the media host identity, for DefaultAzureCredential (AZURE_CLIENT_ID).')
param identityClientId string

@description('Versionless Key Vault URI of CALL_TOKEN_SECRET.')
param callTokenSecretUri string

@description('Environment variables of the media host (name/value pairs) besides those set here.')
param environmentVariables array

@description('Port the media host listens on.')
param port int = 8080

@description('Replicas that always run. At least 1: ACS connects to the WebSocket as soon as a call is answered, and a cold start would fail it (MediaStreamingFailed).')
@minValue(1)
param minReplicas int = 1

@description('Upper bound of replicas.')
@minValue(1)
param maxReplicas int = 10

@description('Concurrent WebSocket connections (one per call) per replica before another replica is added. One core carried about 520 streams at p99 < 20 ms; this keeps headroom for the voice processor.')
param concurrentCallsPerReplica int = 100

@description('Seconds a replica gets after SIGTERM to drain its calls. Container Apps allows at most 600.')
@minValue(30)
@maxValue(600)
param terminationGracePeriodSeconds int = 600

var usePlaceholder = empty(imageName)
// Listens on port 80 and has no health endpoints, so probes and the target port apply to the real image only.
var placeholderImage = 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'
var mediaProbes = [
  {
    type: 'Startup'
    httpGet: {
      path: '/healthz'
      port: port
      scheme: 'HTTP'
    }
    periodSeconds: 2
    failureThreshold: 30
  }
  {
    type: 'Liveness'
    httpGet: {
      path: '/healthz'
      port: port
      scheme: 'HTTP'
    }
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  }
  {
    // Not ready while draining after SIGTERM: the ingress stops sending new calls to this replica.
    type: 'Readiness'
    httpGet: {
      path: '/readyz'
      port: port
      scheme: 'HTTP'
    }
    periodSeconds: 5
    timeoutSeconds: 3
    failureThreshold: 2
  }
]
var baseEnvironment = [
  {
    name: 'MEDIA_HOST_PORT'
    value: string(port)
  }
  {
    name: 'CALL_TOKEN_SECRET'
    secretRef: 'call-token-secret'
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    // The app stops draining 30 s before SIGKILL, leaving time to flush transcripts and notify the function app.
    name: 'MEDIA_DRAIN_SECONDS'
    value: string(terminationGracePeriodSeconds - 30)
  }
]

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${resourceToken}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource media 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'ca-media-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'media' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: usePlaceholder ? 80 : port
        // HTTP/1.1 ingress: the WebSocket upgrade of the ACS media stream goes through it ('auto' would too).
        transport: 'http'
        allowInsecure: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'call-token-secret'
          keyVaultUrl: callTokenSecretUri
          identity: identityId
        }
      ]
    }
    template: {
      // Calls in progress keep streaming while a replica drains after SIGTERM (scale-in, new revision).
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'media'
          image: usePlaceholder ? placeholderImage : imageName
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          env: concat(baseEnvironment, environmentVariables)
          probes: usePlaceholder ? [] : mediaProbes
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'concurrent-calls'
            http: {
              metadata: {
                concurrentRequests: string(concurrentCallsPerReplica)
              }
            }
          }
        ]
      }
    }
  }
}

output environmentName string = environment.name
output environmentDefaultDomain string = environment.properties.defaultDomain
output mediaAppName string = media.name
output mediaFqdn string = media.properties.configuration.ingress.fqdn
