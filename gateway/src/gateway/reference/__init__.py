"""The public API reference: the services' OpenAPI documents merged, with what the gateway
owns added, cached, and browsable at /docs."""
