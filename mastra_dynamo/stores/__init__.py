"""Domain stores on the DynamoDB table, one package or module per domain."""
