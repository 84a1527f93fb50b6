// Log Analytics (Container Apps logs, App Insights storage) and a workspace-based Application Insights.
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Days Log Analytics keeps logs and telemetry (30 is the free minimum).')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Reject telemetry sent with only the connection string\'s instrumentation key (Entra ID required). Turn on once every exporter passes a credential.')
param appInsightsLocalAuthDisabled bool = false

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: appInsightsLocalAuthDisabled
    IngestionMode: 'LogAnalytics'
  }
}

output logAnalyticsName string = logAnalytics.name
output logAnalyticsId string = logAnalytics.id
output appInsightsName string = appInsights.name
output appInsightsId string = appInsights.id
output appInsightsConnectionString string = appInsights.properties.ConnectionString
