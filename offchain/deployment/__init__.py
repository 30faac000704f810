"""Full-protocol deployment: configuration (YAML), steps, a resumable record and governance handover.

``offchain.deployment.network.deploy_network`` is what `ape run deploy` and `make demo` both call.
"""
