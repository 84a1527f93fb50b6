// KPI alerts on the custom metrics the apps export to Application Insights (customMetrics table):
// answer rate > 95 %, drop rate < 2 %, media frame latency < 200 ms, email delivery rate > 99 %.
// Counters arrive as one row per export interval (valueSum); histograms as valueSum/valueCount.
@description('Azure region of the rules.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Application Insights component the queries run on.')
param appInsightsName string

@description('Comma-separated addresses notified when a KPI is missed.')
param alertRecipients string

@description('Fewer calls (or emails) than this in the window: rate alerts stay quiet, a ratio of 1 or 2 means nothing.')
@minValue(1)
param minimumVolume int = 10

@description('Lowest acceptable share of incoming calls answered.')
param answerRateTarget string = '0.95'

@description('Highest acceptable share of answered calls dropped.')
param dropRateTarget string = '0.02'

@description('Highest acceptable mean media frame latency (ms).')
param mediaLatencyTargetMs int = 200

@description('Lowest acceptable share of summary emails sent without failure.')
param emailDeliveryRateTarget string = '0.99'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var recipients = split(alertRecipients, ',')

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-calls-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'calls-kpi'
    enabled: true
    emailReceivers: [for (address, i) in recipients: {
      name: 'kpi-recipient-${i}'
      emailAddress: trim(address)
      useCommonAlertSchema: true
    }]
  }
}

var answerRateQuery = '''
customMetrics
| where name in ("calls.incoming", "calls.answered")
| summarize Incoming = sumif(valueSum, name == "calls.incoming"), Answered = sumif(valueSum, name == "calls.answered")
| where Incoming >= {0}
| project AnswerRate = Answered / Incoming
'''

var dropRateQuery = '''
customMetrics
| where name in ("calls.answered", "calls.dropped")
| summarize Answered = sumif(valueSum, name == "calls.answered"), Dropped = sumif(valueSum, name == "calls.dropped")
| where Answered >= {0}
| project DropRate = Dropped / Answered
'''

var mediaLatencyQuery = '''
customMetrics
| where name == "media.frame_latency"
| summarize Frames = sum(valueCount), Total = sum(valueSum)
| where Frames > 0
| project LatencyMs = Total / Frames
'''

var emailDeliveryQuery = '''
customMetrics
| where name in ("email.sent", "email.failed")
| summarize Sent = sumif(valueSum, name == "email.sent"), Failed = sumif(valueSum, name == "email.failed")
| where Sent + Failed >= {0}
| project DeliveryRate = Sent / (Sent + Failed)
'''

var kpis = [
  {
    name: 'answer-rate'
    description: 'Answer rate below target: incoming calls (calls.incoming) not answered (calls.answered).'
    query: format(answerRateQuery, minimumVolume)
    column: 'AnswerRate'
    operator: 'LessThan'
    threshold: json(answerRateTarget)
    window: 'PT1H'
  }
  {
    name: 'drop-rate'
    description: 'Drop rate above target: answered calls (calls.answered) that dropped (calls.dropped).'
    query: format(dropRateQuery, minimumVolume)
    column: 'DropRate'
    operator: 'GreaterThan'
    threshold: json(dropRateTarget)
    window: 'PT1H'
  }
  {
    name: 'media-latency'
    description: 'Mean media frame latency (media.frame_latency, ms) above target.'
    query: mediaLatencyQuery
    column: 'LatencyMs'
    operator: 'GreaterThan'
    threshold: mediaLatencyTargetMs
    window: 'PT15M'
  }
  {
    name: 'email-delivery-rate'
    description: 'Email delivery rate below target: summaries failed (email.failed) against sent (email.sent).'
    query: format(emailDeliveryQuery, minimumVolume)
    column: 'DeliveryRate'
    operator: 'LessThan'
    threshold: json(emailDeliveryRateTarget)
    window: 'PT6H'
  }
]

resource kpiAlerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for kpi in kpis: {
  name: 'alert-${kpi.name}-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Calls KPI: ${kpi.name}'
    description: kpi.description
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: kpi.window
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: kpi.query
          timeAggregation: 'Average'
          metricMeasureColumn: kpi.column
          operator: kpi.operator
          threshold: kpi.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

output actionGroupName string = actionGroup.name
