"""Classical reference solvers used to make ground truth and as speed baselines."""

__all__: list[str] = []
