"""`ape run governance`: queue, inspect and execute a parameter change through the timelock.

After deployment Roles.ADMIN belongs to the TimelockController recorded in the deployment file, so every
admin call goes: ``queue`` (a proposer) -> wait the minimum delay -> ``execute`` (an executor).

    ape run governance queue   --network base:sepolia:node --account council \\
        --target funding --function setPermissionlessDelay --args '[7200]'
    ape run governance status  --network base:sepolia:node \\
        --target funding --function setPermissionlessDelay --args '[7200]'
    ape run governance execute --network base:sepolia:node --account council \\
        --target funding --function setPermissionlessDelay --args '[7200]'

``--target`` is a logical name of the deployment record (``acl``, ``registry``, ``fees``, ``funding``,
``oracle``, ``liquidation.module`` ...) or an address with ``--contract-type``. The same target, function,
arguments and ``--description`` identify the operation in all three commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from offchain.deployment import governance as gov
from offchain.deployment.network import record_path


def _load(ecosystem, network, record_file: Path | None, target: str, contract_type: str | None):
    """(timelock, target contract) from the deployment record."""
    from ape import project

    path = record_file or record_path(ecosystem.name, network.name)
    if not Path(path).exists():
        raise click.ClickException(f"no deployment record at {path} (use --record)")
    data = json.loads(Path(path).read_text())
    outputs = {
        name: spec
        for step in data.get("steps", [])
        for name, spec in step.get("outputs", {}).get("contracts", {}).items()
    }
    if "timelock" not in outputs:
        raise click.ClickException(f"{path} records no timelock: the deployment is not finished")
    timelock = project.PerpxTimelock.at(outputs["timelock"]["address"])
    if target in outputs:
        spec = outputs[target]
        return timelock, getattr(project, spec["contract"]).at(spec["address"])
    if target.startswith("0x") and contract_type:
        return timelock, getattr(project, contract_type).at(target)
    raise click.ClickException(f"unknown target {target!r}; recorded: {', '.join(sorted(outputs))}")


def _proposal(ecosystem, network, record_file, target, contract_type, function, args, description):
    timelock, contract = _load(ecosystem, network, record_file, target, contract_type)
    try:
        proposal = gov.proposal_for(contract, function, gov.parse_args(args), description)
    except (ValueError, AttributeError) as exc:
        raise click.ClickException(f"cannot encode {function}({args}): {exc}") from exc
    return timelock, proposal


def _common(fn):
    for option in reversed(
        [
            network_option(),
            click.option(
                "--record",
                "record_file",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Deployment record (default deployments/<ecosystem>-<network>.json).",
            ),
            click.option("--target", required=True, help="Logical contract name in the record, or an address."),
            click.option("--contract-type", default=None, help="Contract type when --target is an address."),
            click.option("--function", "function", required=True, help="Function to call, e.g. setRiskParams."),
            click.option("--args", default="[]", show_default=True, help="Arguments as a JSON list."),
            click.option("--description", default=None, help="Free text; also the salt of the operation."),
        ]
    ):
        fn = option(fn)
    return fn


@click.group(short_help="Timelocked parameter changes")
def cli():
    """Queue, inspect and execute admin calls through the deployment's TimelockController."""


@cli.command(cls=ConnectedProviderCommand)
@_common
@account_option()
@click.option("--delay", type=int, default=None, help="Seconds to wait (default: the timelock's minimum).")
def queue(ecosystem, network, account, record_file, target, contract_type, function, args, description, delay):
    """Schedule the call (needs PROPOSER_ROLE on the timelock)."""
    timelock, p = _proposal(ecosystem, network, record_file, target, contract_type, function, args, description)
    receipt = gov.queue(timelock, p, account, delay)
    op = gov.operation_id(timelock, p).hex()
    click.echo(
        f"queued {p.description}\n  operation 0x{op}\n  tx {receipt.txn_hash}\n  ready at {gov.ready_at(timelock, p)}"
    )


@cli.command(cls=ConnectedProviderCommand)
@_common
def status(ecosystem, network, record_file, target, contract_type, function, args, description):
    """Print whether the call is unknown, waiting, ready or done."""
    from ape import chain

    timelock, p = _proposal(ecosystem, network, record_file, target, contract_type, function, args, description)
    state = gov.status(timelock, p)
    extra = f" (ready at {gov.ready_at(timelock, p)}, now {chain.pending_timestamp})" if state == "waiting" else ""
    click.echo(f"{p.description}: {state}{extra}")


@cli.command(cls=ConnectedProviderCommand)
@_common
@account_option()
def execute(ecosystem, network, account, record_file, target, contract_type, function, args, description):
    """Execute a ready call (needs EXECUTOR_ROLE)."""
    timelock, p = _proposal(ecosystem, network, record_file, target, contract_type, function, args, description)
    state = gov.status(timelock, p)
    if state != "ready":
        raise click.ClickException(f"operation is {state}, not ready: nothing sent")
    receipt = gov.execute(timelock, p, account)
    click.echo(f"executed {p.description}\n  tx {receipt.txn_hash}")
