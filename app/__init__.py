"""okrsync: keeps OKR progress in step with the tools where the work happens."""
