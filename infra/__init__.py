"""CDK app for mastra-dynamo: the single DynamoDB table (and an optional Lambda) derived from TABLE_SPEC.

Not part of the wheel: the library's distribution holds ``mastra_dynamo`` and ``composite`` only. Run the app
from a checkout (``cdk synth`` / ``cdk deploy`` at the repository root; ``cdk.json`` points here). Reuse the
table construct in your own CDK app with the checkout on ``PYTHONPATH``::

    from infra.components import MastraStorageTable

Layout: ``app.py`` is the composition root (the only place configuration enters), ``stacks/`` composes one
construct per logical unit, ``components/`` holds the constructs (named so to avoid shadowing the ``constructs``
distribution when ``infra/`` itself is on ``sys.path``), ``handler/`` is the Lambda's runtime code and
``packaging.py`` stages the Lambda assets without Docker.
"""
