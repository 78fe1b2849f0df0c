"""Pure domain: values and functions over bytes and images. No boto3, no environment."""
