"""Local development tools: Azurite launcher, ACS simulator, dev host."""
