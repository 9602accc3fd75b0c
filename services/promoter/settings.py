"""Settings of the promoter (env ``RINGRIFT_PROMOTER_*``; ``--help`` lists them all)."""

from __future__ import annotations

from pydantic import SecretStr

from ringrift.service.settings import ServiceSettings


class PromoterSettings(ServiceSettings):
    """The promoter: registers candidates, decides promotion from the evaluator's gate or a
    person's REST call, and publishes the lifecycle and the current model per config."""

    service = "promoter"

    api_token: SecretStr | None = None
    """An operator token provisioned by the deployment (a secret; registered hashed at
    start, named by --api-token-name). Further tokens: ringrift promoter token create."""
    api_token_name: str = "deploy"
    """The name (actor in the audit log and events) of the --api-token token."""
    open_reads: bool = False
    """Serve the read endpoints without a token (mutating ones always need an operator's)."""
    verify_weights: bool = True
    """Check each candidate's weights in the artifact store (sha256) before registering it,
    and a model's before promoting or rolling back to it."""
    refresh_every_s: float = 30.0
    """How often the per-state model counts are refreshed for /metrics."""
