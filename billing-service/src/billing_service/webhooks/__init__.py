"""Webhook endpoints (the API), their guarded HTTP and the delivery loop."""
