"""azd hooks (see azure.yaml): small scripts run by azd around provisioning and deployment."""
