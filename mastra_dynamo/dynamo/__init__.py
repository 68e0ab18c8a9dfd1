"""DynamoDB request layer: the client wrapper (error seam, batching, retries), codecs and expressions."""
