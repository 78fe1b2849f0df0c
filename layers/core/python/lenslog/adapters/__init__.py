"""AWS adapters: small classes over injected boto3 clients."""
