"""Infrastructure: AWS clients, secrets, logging and metrics. Knows nothing of calls or providers."""
