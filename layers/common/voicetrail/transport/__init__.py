"""HTTP transport: API Gateway events in, replies out, and the one place domain errors become statuses."""
