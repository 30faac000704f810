"""Bridge off-chain parts: EIP-712 messages, validator signer, relayer and the reserve attestor."""
