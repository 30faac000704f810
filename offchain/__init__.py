"""Off-chain layer of the perpx protocol: deployment, signing, matching, batching and keepers."""

__version__ = "0.1.0"
