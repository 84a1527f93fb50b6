// Key Vault (RBAC mode) holding CALL_TOKEN_SECRET, the HMAC key both apps use for per-call tokens.
@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Suffix that makes names unique within the subscription.')
param resourceToken string

@description('Value of CALL_TOKEN_SECRET (at least 32 characters). The preprovision hook generates it once per azd environment.')
@secure()
@minLength(32)
param callTokenSecret string

@description('Name of the Key Vault secret that holds CALL_TOKEN_SECRET.')
param callTokenSecretName string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: the apps (Flex Consumption and Container Apps without VNet) read the secret over the public endpoint; access needs an Entra ID role on the one secret.
  // checkov:skip=CKV_AZURE_42: soft delete is on (7 days); the check also wants purge protection, see CKV_AZURE_110.
  // checkov:skip=CKV_AZURE_110: purge protection would stop `azd down --purge` from removing the vault; the only secret is regenerable.
  // checkov:skip=CKV_AZURE_189: no private network in this deployment, see CKV_AZURE_109.
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource callTokenSecretResource 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: an expiry would stop every call at once; rotate by re-running the preprovision hook with a new value instead.
  parent: vault
  name: callTokenSecretName
  properties: {
    value: callTokenSecret
    contentType: 'text/plain'
  }
}

output vaultName string = vault.name
output vaultUri string = vault.properties.vaultUri
// Versionless URI: App Service and Container Apps pick up a rotated value without a redeploy.
output callTokenSecretUri string = callTokenSecretResource.properties.secretUri
output callTokenSecretName string = callTokenSecretResource.name
