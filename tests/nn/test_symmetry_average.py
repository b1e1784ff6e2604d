"""SymmetryAverage makes a model exactly invariant under the square's 8 symmetries: worked by
hand on models whose averages are known, checked against a GEN that is not invariant on its
own, batched equals one by one, gradients reach the model, bad input is named; and the
Trainer evaluates a wrapped model on the same batches."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

import gen_pyg
from gen_pyg.mesh import AttachMesh
from gen_pyg.nn import GEN, SymmetryAverage
from gen_pyg.ops.symmetry import square_symmetry, square_symmetry_points
from gen_pyg.testing import make_example
from gen_pyg.training import DataConfig, TrainConfig, Trainer, build_datasets, build_meshes


class QueryX(torch.nn.Module):
    """Predicts the x coordinate of each query."""

    def forward(self, data: Data) -> Tensor:
        return data.query_pos[:, :1].clone()


class InputMean(torch.nn.Module):
    """Predicts the mean sample value (no positions: already invariant)."""

    def forward(self, data: Data) -> Tensor:
        return data.input_x.mean().expand(data.query_pos.size(0), 1)


def test_the_eight_maps_are_the_rotations_and_reflections_about_the_centre() -> None:
    lo, hi = -1.0, 3.0
    c = torch.tensor([(lo + hi) / 2] * 2)
    p = torch.tensor([[0.5, -0.25], [2.75, 1.5]])
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]])  # 90 degrees
    ref = torch.tensor([[-1.0, 0.0], [0.0, 1.0]])  # x -> -x
    by_hand = set()
    for k in range(4):
        r = torch.linalg.matrix_power(rot, k)
        for m in (r, r @ ref):
            by_hand.add(tuple(((p - c) @ m.T + c).flatten().tolist()))
    mapped = {tuple(square_symmetry_points(p, i, lo, hi).flatten().tolist()) for i in range(8)}
    assert len(by_hand) == 8 and mapped == by_hand
    assert torch.equal(square_symmetry_points(p, 0, lo, hi), p)
    with pytest.raises(ValueError, match=r"index must be in 0\.\.7, got 8"):
        square_symmetry_points(p, 8)
    with pytest.raises(ValueError, match=r"2-D points \[\.\.\., 2\], got \(2, 3\)"):
        square_symmetry_points(torch.rand(2, 3), 1)


def test_averages_worked_by_hand() -> None:
    data = Data(input_pos=torch.rand(3, 2), input_x=torch.tensor([[1.0], [2.0], [6.0]]),
                query_pos=torch.tensor([[0.1, 0.7], [0.9, 0.0]]))
    # the 8 images of a query have x coordinates x, 1-x, y, 1-y, each twice: mean 0.5
    out = SymmetryAverage(QueryX())(data)
    torch.testing.assert_close(out, torch.full((2, 1), 0.5))
    # on [2, 6]^2 the mean is the centre, 4
    shifted = Data(input_pos=2 + 4 * data.input_pos, input_x=data.input_x,
                   query_pos=torch.tensor([[2.5, 5.0]]))
    torch.testing.assert_close(SymmetryAverage(QueryX(), lo=2, hi=6)(shifted),
                               torch.full((1, 1), 4.0))
    # a model that ignores positions is unchanged
    assert SymmetryAverage(InputMean())(data).view(-1).tolist() == [3.0, 3.0]
    # the input is not modified
    assert torch.equal(data.query_pos, torch.tensor([[0.1, 0.7], [0.9, 0.0]]))


def test_wrapped_gen_is_invariant_where_the_gen_alone_is_not() -> None:
    torch.manual_seed(0)
    gen = GEN.paper(in_channels=[1, 1], out_channels=1).eval()
    model = SymmetryAverage(gen)
    data = make_example(num_nodes=9, num_inputs=12, num_queries=6, in_channels=[1, 1],
                        generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        base, plain = model(data), gen(data)
    assert plain.std() > 0
    moved_gap = 0.0
    with torch.no_grad():
        for index in range(8):
            moved = square_symmetry(data, index)
            torch.testing.assert_close(model(moved), base, rtol=1e-5, atol=1e-6)
            moved_gap = max(moved_gap, float((gen(moved) - plain).abs().max()))
        by_hand = sum(gen(square_symmetry(data, i)) for i in range(8)) / 8
    assert moved_gap > 1e-3  # the GEN alone is not invariant: the check above can fail
    torch.testing.assert_close(base, by_hand)


def test_batched_equals_one_by_one_and_gradients_reach_the_model() -> None:
    torch.manual_seed(0)
    model = SymmetryAverage(GEN.paper(in_channels=[1], out_channels=1))
    g = torch.Generator().manual_seed(1)
    examples = [make_example(num_inputs=8, num_queries=4, generator=g) for _ in range(3)]
    batch = Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])
    together = model(batch)
    apart = torch.cat([model(e) for e in examples])
    torch.testing.assert_close(together, apart, rtol=1e-5, atol=1e-6)
    together.sum().backward()
    assert all(p.grad is not None and bool(p.grad.abs().sum() > 0)
               for p in model.model.parameters() if p.requires_grad)


def test_bad_input_is_named() -> None:
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got str"):
        SymmetryAverage("gen")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"group must be one of \('square',\), got 'cube'"):
        SymmetryAverage(QueryX(), group="cube")
    with pytest.raises(ValueError, match="keys must be a non-empty sequence"):
        SymmetryAverage(QueryX(), keys="query_pos")
    with pytest.raises(ValueError, match=r"lo must be below hi.*lo=1\.0, hi=1\.0"):
        SymmetryAverage(QueryX(), lo=1, hi=1)
    with pytest.raises(ValueError, match=r"needs data\.input_pos"):
        SymmetryAverage(QueryX())(Data(query_pos=torch.rand(2, 2)))
    with pytest.raises(ValueError, match=r"data.query_pos has shape \(2, 3\)"):
        SymmetryAverage(QueryX())(Data(input_pos=torch.rand(2, 2), query_pos=torch.rand(2, 3)))
    assert "SymmetryAverage(QueryX(), group='square', lo=0.0, hi=1.0)" == repr(
        SymmetryAverage(QueryX()))


def test_points_outside_the_square_are_refused_at_the_entry() -> None:
    # the images of x = 3 under the square's symmetries (x -> 1 - x = -2, ...) are not in it
    data = Data(input_pos=torch.tensor([[0.5, 0.5], [3.0, 0.2]]), input_x=torch.ones(2, 1),
                query_pos=torch.tensor([[0.1, 0.7]]))
    model = SymmetryAverage(QueryX())
    with pytest.raises(ValueError, match=r"data\.input_pos\[1\] = \(3, 0\.2\) lies outside "
                                         r"the square \[0, 1\]\^2"):
        model(data)
    data.input_pos[1, 0] = 0.9
    data.query_pos = torch.tensor([[0.1, 0.7], [0.5, -0.25]])
    with pytest.raises(ValueError, match=r"data\.query_pos\[1\] = \(0\.5, -0\.25\).*lo= and hi="):
        model(data)
    with pytest.raises(ValueError, match=r"outside the square \[-1, 0\.5\]\^2"):
        SymmetryAverage(QueryX(), lo=-1.0, hi=0.5)(data)
    # the edges belong to the square, up to rounding; other domains are given as lo and hi
    edge = Data(input_pos=torch.tensor([[0.0, 1.0 + 1e-7]]), input_x=torch.ones(1, 1),
                query_pos=torch.tensor([[1.0, 0.0]]))
    torch.testing.assert_close(model(edge), torch.full((1, 1), 0.5))
    torch.testing.assert_close(SymmetryAverage(QueryX(), lo=-1.0, hi=1.0)(data),
                               torch.zeros(2, 1))
    # a value check: off with the package's switch, like the NaN scans
    with gen_pyg.value_checks(False):
        assert model(data).shape == (2, 1)


def test_trainer_evaluates_the_wrapped_model_on_the_same_batches(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = DataConfig("poisson_square", root=str(tmp_path), num_instances=3,
                     num_test_instances=1, options={"n": 21}, mesh_sizes=[3])
    test = build_datasets(cfg, log=False)["test"]
    meshes = build_meshes(cfg)
    gen = GEN.paper(in_channels=[1, 1], out_channels=1)
    trainer = Trainer(gen, test, meshes=meshes,
                      config=TrainConfig(progress=False, group_by="house"))
    wrapped = SymmetryAverage(gen)
    got = trainer.evaluate(test, model=wrapped)["3x3"]
    assert gen.training  # restored after evaluation
    mesh = next(iter(meshes.values()))
    sq, n = 0.0, 0
    with torch.no_grad():
        gen.eval()
        for data in test:
            one = Batch.from_data_list([AttachMesh(mesh)(data.clone())],
                                       follow_batch=["input_pos", "query_pos"])
            pred = sum(gen(square_symmetry(one, i)) for i in range(8)) / 8
            sq += float(((pred - data.y) ** 2).sum())
            n += data.y.numel()
    assert got == pytest.approx(sq / n, rel=1e-4)
    assert got != pytest.approx(trainer.evaluate(test)["3x3"], rel=1e-3)
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got int"):
        trainer.evaluate(test, model=3)  # type: ignore[arg-type]
