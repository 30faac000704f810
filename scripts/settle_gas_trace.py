"""`ape run settle_gas_trace --network ethereum:local:foundry`: per-fill gas breakdown of one settled batch."""

from __future__ import annotations

import json

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger

from offchain.settlement import gas, gas_trace


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--batch", default=100, show_default=True, help="Fills in the traced batch.")
@click.option("--minus", default=0, show_default=True, help="First trace a batch of this many fills and print the "
              "difference per extra fill (the marginal cost of a fill, without the batch's fixed part).")  # fmt: skip
@click.option("--lines-only", is_flag=True, help="Only print the settle_gas_per_fill lines of `make gas`.")
@click.option("--dump", type=click.Path(dir_okay=False), help="Also write the struct logs (JSON) here.")
def cli(batch: int, minus: int, lines_only: bool, dump: str | None) -> None:
    """Set up the `make gas` scenario, settle one batch and print where its gas goes, per fill."""
    if not 0 <= minus < batch:
        raise click.BadParameter(f"--minus must be in [0, {batch})")
    logger.set_level("WARNING")
    if hasattr(chain.provider, "set_block_gas_limit"):
        chain.provider.set_block_gas_limit(200_000_000)
    s = gas.setup(project, accounts.test_accounts, chain)
    if lines_only:
        for line in gas.format_lines(gas.run(s, chain)):
            click.echo(line)
        return
    perp, core = s.contracts["perp"], s.contracts["core"]
    names = {str(c.address).lower(): n for n, c in (
        ("Settlement", s.settlement), ("PerpEngine", perp.engine), ("FeeSchedule", perp.fees),
        ("MarketRegistry", perp.registry), ("Vault", core.vault), ("ComplianceRegistry", core.compliance),
        ("ProtocolAccess", core.acl),
    )}  # fmt: skip
    base = _traced(s, minus, names, None) if minus else None
    b = _traced(s, batch, names, dump)
    if base is not None:
        click.echo(f"-- marginal per fill: (batch {batch} - batch {minus}) / {batch - minus}")
        b = gas_trace.difference(b, base)
        batch -= minus
    for title, counter in (("class", b.by_class), ("contract", b.by_contract), ("storage/log gas", b.storage_gas)):
        click.echo(f"-- by {title} (gas per fill)")
        for key, value in counter.most_common():
            click.echo(f"  {key:48s} {value / batch:10.0f}")
    click.echo("-- storage ops and logs (count per fill)")
    for key, value in sorted((b.storage + b.logs).items()):
        click.echo(f"  {key:48s} {value / batch:8.2f}")


def _traced(s: gas.Scenario, batch: int, names: dict[str, str], dump: str | None) -> gas_trace.Breakdown:
    """Settles a fresh batch of ``batch`` fills and returns the breakdown of its trace."""
    receipt = gas.settle(s, gas._fills(s, batch, chain.pending_timestamp + 365 * 86400))
    logs = gas_trace.trace(chain.provider.uri, receipt.txn_hash)
    if dump:
        with open(dump, "w") as fh:
            json.dump({"to": str(s.settlement.address), "names": names, "gasUsed": receipt.gas_used, "logs": logs}, fh)
    b = gas_trace.breakdown(logs, str(s.settlement.address), names)
    executed = sum(b.by_class.values())
    click.echo(f"batch={batch} gasUsed={receipt.gas_used} per_fill={receipt.gas_used / batch:.0f} "
               f"steps={b.steps} executed={executed} outside_execution={receipt.gas_used - executed}")  # fmt: skip
    return b
