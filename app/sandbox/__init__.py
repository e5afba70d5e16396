"""A local stand-in for Jira Cloud, Jira Data Center and GitHub.

The demo, the end-to-end tests, fault tests and benchmarks run against it, so
nobody needs a real Jira and no test reaches the internet::

    from app.sandbox import SandboxServer

    with SandboxServer() as sandbox:
        print(sandbox.jira_cloud_url, sandbox.jira_dc_url, sandbox.github_url)
"""

from app.sandbox.data import Company, build_company
from app.sandbox.faults import Faults, InjectedAnswer
from app.sandbox.requestlog import LoggedRequest, RequestLog, credential_fingerprint
from app.sandbox.server import SandboxServer, create_app, serve_forever

__all__ = [
    "Company",
    "Faults",
    "InjectedAnswer",
    "LoggedRequest",
    "RequestLog",
    "SandboxServer",
    "build_company",
    "create_app",
    "credential_fingerprint",
    "serve_forever",
]
