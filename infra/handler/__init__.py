"""Lambda runtime code. Each module here is deployed as a top-level module next to ``mastra_dynamo``."""
