"""Optional PNG of the session: index vs contract price, funding rate, insurance fund (needs matplotlib)."""

from __future__ import annotations

from pathlib import Path

from offchain.demo.context import Series


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_chart(series: Series, path: Path) -> Path:
    """Three stacked panels over chain time; raises ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    t0 = min((t for s in (series.index, series.contract, series.insurance) for t, _ in s), default=0)

    def hours(points: list[tuple[int, float]]) -> tuple[list[float], list[float]]:
        return [(t - t0) / 3600 for t, _ in points], [v for _, v in points]

    axes[0].step(*hours(series.index), where="post", label="ETH index (oracle median)")
    axes[0].plot(*hours(series.contract), "o", label="ETH-USD contract price (posted)")
    axes[0].set_ylabel("USD")
    axes[0].legend()
    axes[1].plot(*hours(series.funding), "o-", label="ETH-USD funding rate per 8 h")
    axes[1].set_ylabel("rate")
    axes[1].legend()
    axes[2].step(*hours(series.insurance), where="post", label="insurance fund (USDC)")
    axes[2].set_ylabel("USDC")
    axes[2].set_xlabel("chain time (hours)")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
