"""SpringMass: targets from Hooke's law, features, trajectories, caching and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gen_pyg.datasets import SpringMass, chain_edge_index, spring_chain_graph
from gen_pyg.solvers import chain_euler_rollout


def test_chain_edge_index_by_hand() -> None:
    assert chain_edge_index(2).tolist() == [[0, 1], [1, 0]]
    assert chain_edge_index(4).tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]


def test_snapshot_accelerations_follow_hookes_law(tmp_path: Path) -> None:
    ds = SpringMass(str(tmp_path), num_graphs=20, num_masses=5, stiffness=2.0, mass=0.5)
    assert len(ds) == 20 and ds.target_names == ("acceleration",)
    for data in ds:
        x, a = data.x[:, 0], data.y[:, 0]
        assert data.edge_index.tolist() == chain_edge_index(5).tolist()
        torch.testing.assert_close(a[1:-1], -2.0 * (2 * x[1:-1] - x[:-2] - x[2:]) / 0.5)
        torch.testing.assert_close(a[0], -2.0 * (x[0] - x[1]) / 0.5)
        torch.testing.assert_close(a[-1], -2.0 * (x[-1] - x[-2]) / 0.5)
        torch.testing.assert_close(data.pos[:, 0], x)


def test_random_stiffness_and_mass_become_features(tmp_path: Path) -> None:
    ds = SpringMass(str(tmp_path), num_graphs=10, num_masses=4, target="both",
                    stiffness_range=(0.5, 2.0), mass_range=(1.0, 3.0), dt=0.02)
    data = ds[3]
    assert data.x.shape == (4, 3) and data.edge_attr.shape == (6, 1) and data.y.shape == (4, 2)
    x, m, k = data.x[:, 0], data.x[:, 2], data.edge_attr[::2, 0]  # one direction per spring
    assert bool((k >= 0.5).all() and (k <= 2.0).all() and (m >= 1.0).all() and (m <= 3.0).all())
    torch.testing.assert_close(data.edge_attr[1::2, 0], k)  # both directions carry k
    force = torch.zeros(4)
    for s in range(3):
        stretch = x[s + 1] - x[s]
        force[s] += k[s] * stretch
        force[s + 1] -= k[s] * stretch
    torch.testing.assert_close(data.y[:, 0], force / m)
    torch.testing.assert_close(data.y[:, 1], 0.02 * force / m)  # one Euler step of velocity


def test_statistics_of_the_initial_states(tmp_path: Path) -> None:
    ds = SpringMass(str(tmp_path), num_graphs=2000)
    x = ds._data.x
    assert x[:, 0].std().item() == pytest.approx(0.5, rel=0.05)
    assert x[:, 1].std().item() == pytest.approx(0.3, rel=0.05)
    assert abs(x[:, 0].mean().item()) < 0.03


def test_trajectories_match_the_integrator_and_the_exact_solution(tmp_path: Path) -> None:
    ds = SpringMass(str(tmp_path), num_graphs=3, num_masses=6, mode="trajectory", num_steps=200)
    data = ds[1]
    assert data.euler_pos.shape == (6, 201) and data.exact_vel.shape == (6, 201)
    x, v = chain_euler_rollout(data.x[:, 0].double(), data.x[:, 1].double(), 0.01, 200)
    torch.testing.assert_close(data.euler_pos, x.float())
    torch.testing.assert_close(data.euler_vel, v.float())
    torch.testing.assert_close(data.exact_pos[:, 0], data.x[:, 0])
    gap = (data.exact_pos - data.euler_pos).abs().max().item()
    assert 1e-5 < gap < 0.02  # first-order integrator error, visible but small at dt = 0.01


def test_cache_is_reused_and_regenerated_when_parameters_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = SpringMass(str(tmp_path), num_graphs=5, seed=3)
    [cached] = (tmp_path / "processed").glob("spring_mass_*.pt")
    stamp = cached.stat().st_mtime_ns, cached.read_bytes()

    def fail(self: SpringMass) -> list[object]:
        raise RuntimeError("_generate called")

    # the generation itself (what _CachedDataset.process calls) is what must not run again
    monkeypatch.setattr(SpringMass, "_generate", fail)
    again = SpringMass(str(tmp_path), num_graphs=5, seed=3)  # same parameters: read from cache
    torch.testing.assert_close(again._data.x, first._data.x, rtol=0, atol=0)
    torch.testing.assert_close(again._data.y, first._data.y, rtol=0, atol=0)
    # a transform is applied on access, not stored: it does not regenerate either
    SpringMass(str(tmp_path), num_graphs=5, seed=3, transform=lambda d: d)
    assert (cached.stat().st_mtime_ns, cached.read_bytes()) == stamp  # not rewritten
    base: dict[str, object] = {"num_graphs": 5, "seed": 3}
    for changed in ({"seed": 4}, {"num_masses": 4}, {"target": "both"}, {"dt": 0.02},
                    {"mode": "trajectory"}, {"stiffness": 2.0}, {"position_std": 0.4}):
        with pytest.raises(RuntimeError, match="_generate called"):  # a new key: regenerated
            SpringMass(str(tmp_path), **{**base, **changed})  # type: ignore[arg-type]
    # force_reload regenerates even when the cache file exists
    with pytest.raises(RuntimeError, match="_generate called"):
        SpringMass(str(tmp_path), **base, force_reload=True)  # type: ignore[arg-type]
    monkeypatch.undo()
    assert list((tmp_path / "processed").glob("spring_mass_*.pt")) == [cached]
    other = SpringMass(str(tmp_path), num_graphs=5, seed=4)
    assert not torch.equal(first._data.x, other._data.x)
    longer = SpringMass(str(tmp_path), num_graphs=5, seed=3, num_masses=4)
    assert longer[0].num_nodes == 4
    assert len(list((tmp_path / "processed").glob("spring_mass_*.pt"))) == 3


def test_transform_and_pre_filter(tmp_path: Path) -> None:
    ds = SpringMass(str(tmp_path), num_graphs=50,
                    pre_filter=lambda d: bool(d.x[0, 0] > 0),
                    transform=lambda d: d.update({"flag": torch.ones(1)}))
    assert 0 < len(ds) < 50
    assert all(bool(d.x[0, 0] > 0) for d in ds)
    assert ds[0].flag.item() == 1.0


def test_spring_chain_graph_attributes() -> None:
    g = spring_chain_graph(torch.tensor([0.0, 1.0, 0.5]), torch.zeros(3),
                           torch.tensor([1.0, 2.0]), 3.0, stiffness_feature=True,
                           mass_feature=True)
    assert g.stiffness.tolist() == [1.0, 1.0, 2.0, 2.0]
    assert g.edge_attr[:, 0].tolist() == [1.0, 1.0, 2.0, 2.0]
    assert g.x[:, 2].tolist() == [3.0, 3.0, 3.0] and g.mass.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_masses": 1}, ValueError, "num_masses"),
        ({"num_masses": 2.5}, TypeError, "num_masses"),
        ({"num_graphs": -3}, ValueError, "num_graphs"),
        ({"num_graphs": 0}, ValueError, "num_graphs"),
        ({"dt": 0.0}, ValueError, "'dt'"),
        ({"dt": -0.01}, ValueError, "'dt'"),
        ({"num_steps": 0, "mode": "trajectory"}, ValueError, "num_steps"),
        ({"mode": "movie"}, ValueError, "'mode'"),
        ({"target": "force"}, ValueError, "'target'"),
        ({"stiffness": -1.0}, ValueError, "stiffness"),
        ({"mass": 0.0}, ValueError, "mass"),
        ({"mass_range": (2.0, 1.0)}, ValueError, "mass_range"),
        ({"stiffness_range": (0.0, 1.0)}, ValueError, "stiffness_range"),
        ({"position_std": -0.5}, ValueError, "position_std"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_parameters_are_rejected(
    tmp_path: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        SpringMass(str(tmp_path), **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "processed").exists() or not list((tmp_path / "processed").iterdir())


def test_bad_graph_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="len\\(position\\)"):
        spring_chain_graph(torch.zeros(1), torch.zeros(1))
    with pytest.raises(ValueError, match="velocity"):
        spring_chain_graph(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="positive"):
        spring_chain_graph(torch.zeros(3), torch.zeros(3), mass=-1.0)
