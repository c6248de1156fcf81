"""AWS Lambda: a handler for API Gateway (REST v1, HTTP v2) and direct invocations."""
