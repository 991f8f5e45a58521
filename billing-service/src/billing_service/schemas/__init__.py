"""Request and response models of billing-service, one module per domain."""
