"""SceneRetrieval: logits over the batch's candidates, the retrieval loss and accuracy by hand,
mixed supermaze sizes, invariance to the order of the context views, both cores, gradients,
and the figure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gen_pyg.datasets import Mazes
from gen_pyg.mesh import grid
from gen_pyg.nn import ImageEmbedder, PoseImageEncoder, SceneRetrieval
from gen_pyg.training.objectives import RetrievalAccuracy, RetrievalCrossEntropy
from gen_pyg.viz import plot_scene_retrieval

FOLLOW = ["input_pos", "query_pos"]
SMALL_MODEL: dict[str, Any] = {"latent_channels": 16, "embed_channels": 16, "cnn_channels": 8,
                               "num_steps": 3}


@pytest.fixture(scope="module")
def mazes(tmp_path_factory: pytest.TempPathFactory) -> Mazes:
    root = tmp_path_factory.mktemp("mazes")
    return Mazes(root, "test", m=[1, 2], num_mazes=4, views_per_maze=10, log=False)


def _batch(ds: Mazes, indices: list[int]) -> Batch:
    batch: Batch = next(iter(DataLoader([ds[i] for i in indices], batch_size=len(indices),
                                        follow_batch=FOLLOW)))
    return batch


def test_engine_retrieval_objectives_by_hand() -> None:
    # the model is trained and scored by the engine's objectives (no copy of them here)
    # row 0: candidate 0 has twice the weight of each other -> p = 1/2, right;
    # row 1: candidate 2 has twice the weight -> p(1) = 1/4, wrong
    logits = torch.tensor([[math.log(2.0), 0.0, 0.0], [0.0, 0.0, math.log(2.0)]])
    loss, n = RetrievalCrossEntropy()(logits, None)
    assert n == 2 and loss.dim() == 0
    assert float(loss) == pytest.approx(math.log(2.0) + math.log(4.0))
    correct, n = RetrievalAccuracy()(logits, None)
    assert int(correct) == 1 and n == 2
    with pytest.raises(ValueError, match="logits"):
        RetrievalCrossEntropy()(torch.zeros(3, 2), None)
    with pytest.raises(ValueError, match="logits"):
        RetrievalAccuracy()(torch.zeros(3), None)


def test_logits_over_all_candidates_with_mixed_supermazes(mazes: Mazes) -> None:
    torch.manual_seed(0)
    model = SceneRetrieval(**SMALL_MODEL)
    batch = _batch(mazes, [0, 1])  # m = 1 and m = 2
    q, p = 1 + 4, 8 + 32
    assert batch.query_img.size(0) == q and batch.input_img.size(0) == p
    logits = model(batch)
    assert logits.shape == (q, q + p) and bool(torch.isfinite(logits).all())
    assert bool((logits <= 1e-4).all())  # negative squared distances
    # in eval mode an example's query embeddings do not depend on the rest of the batch
    model.eval()
    with torch.no_grad():
        together = model.embed_queries(batch)
        alone = [model.embed_queries(_batch(mazes, [i])) for i in (0, 1)]
    torch.testing.assert_close(together, torch.cat(alone), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("core", ["gen", "np"])
def test_context_order_does_not_matter(mazes: Mazes, core: str) -> None:
    torch.manual_seed(1)
    model = SceneRetrieval(core, **SMALL_MODEL).eval()
    data = mazes[1]
    perm = torch.randperm(data.input_img.size(0))
    shuffled = data.clone()
    for key in ("input_img", "input_pose", "input_pos", "input_maze"):
        shuffled[key] = data[key][perm]
    with torch.no_grad():
        a = model(_batch_of(data))
        b = model(_batch_of(shuffled))
    q = data.query_img.size(0)
    torch.testing.assert_close(b[:, :q], a[:, :q], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(b[:, q:], a[:, q:][:, perm], atol=1e-4, rtol=1e-4)


def _batch_of(data: Data) -> Batch:
    batch: Batch = Batch.from_data_list([data], follow_batch=FOLLOW)
    return batch


def test_both_cores_train_and_gradients_reach_the_cnns(mazes: Mazes) -> None:
    batch = _batch(mazes, [0, 1, 2])
    for core in ("gen", "np"):
        torch.manual_seed(2)
        model = SceneRetrieval(core, **SMALL_MODEL)
        loss, n = RetrievalCrossEntropy()(model(batch), batch)
        assert n == batch.query_img.size(0)
        loss.backward()
        for name, module in (("encoder", model.encoder.trunk.net[0]),
                             ("candidate_encoder", model.candidate_encoder.trunk.net[0])):
            grad = module.weight.grad
            assert grad is not None and float(grad.abs().sum()) > 0, name
        core_grads = [p.grad for p in model.core.parameters() if p.requires_grad]
        assert any(g is not None and float(g.abs().sum()) > 0 for g in core_grads)


def test_reprs_and_widths() -> None:
    gen = SceneRetrieval()
    assert repr(gen) == ("SceneRetrieval(core='gen', latent_channels=64, embed_channels=64, "
                         "image_size=32, pose_copies=8, num_steps=4)")
    assert repr(SceneRetrieval("np")).endswith("pose_copies=32)")
    assert repr(PoseImageEncoder()) == (
        "PoseImageEncoder(64, image_size=32, pose_channels=7, hidden_channels=32)")
    assert repr(ImageEmbedder(16)) == "ImageEmbedder(16, image_size=32, hidden_channels=32)"
    # batch norm in both CNNs, as the paper needed
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in gen.encoder.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in gen.candidate_encoder.modules())
    with pytest.raises(ValueError, match="'core'"):
        SceneRetrieval("gqn")
    with pytest.raises(ValueError, match="pose_copies"):
        SceneRetrieval(pose_copies=0)


def test_missing_inputs_are_named(mazes: Mazes) -> None:
    data = mazes[0]
    del data.query_pose
    with pytest.raises(ValueError, match=r"'data\.query_pose'"):
        SceneRetrieval(**SMALL_MODEL)(data)


def test_wrong_image_size_and_pose_width_are_named_at_the_entry() -> None:
    def views(side: int = 8, pose: int = 7, **swap: torch.Tensor) -> Data:
        data = Data(**grid(3, edges="lattice").to_dict(), input_pos=torch.rand(4, 2),
                    input_pose=torch.rand(4, pose), input_img=torch.rand(4, 3, side, side),
                    query_pos=torch.rand(2, 2), query_pose=torch.rand(2, 7),
                    query_img=torch.rand(2, 3, 8, 8))
        for key, value in swap.items():
            data[key] = value
        return data

    torch.manual_seed(0)
    model = SceneRetrieval(latent_channels=8, embed_channels=8, image_size=8, cnn_channels=4)
    assert model(views()).shape == (2, 6)
    # images of another size reached a Linear 15 frames deep ("mat1 and mat2 shapes")
    with pytest.raises(ValueError, match=r"data\.input_img must have shape \[4, 3, 8, 8\] "
                                         r"\(RGB images of the model's image_size=8\), got "
                                         r"\(4, 3, 16, 16\); resize the images or build the "
                                         r"model with image_size=16"):
        model(views(side=16))
    with pytest.raises(ValueError, match=r"data\.input_pose must have shape \[4, 7\] \(camera "
                                         r"poses \(x, y, z, cos psi.*got \(4, 6\)"):
        model(views(pose=6))
    with pytest.raises(ValueError, match=r"data\.query_pose must have shape \[2, 7\].*\(3, 7\)"):
        model(views(query_pose=torch.rand(3, 7)))
    with pytest.raises(ValueError, match=r"data\.query_img must have shape \[2, 3, 8, 8\]"):
        model(views(query_img=torch.rand(2, 8, 8)))
    with pytest.raises(ValueError, match=r"data\.input_img must have shape \[4, 3, 8, 8\].*"
                                         r"\(3, 3, 8, 8\)"):
        model(views(input_img=torch.rand(3, 3, 8, 8)))
    with pytest.raises(TypeError, match=r"data\.input_img must be uint8 .* got dtype torch\.int64"):
        model(views(input_img=torch.zeros(4, 3, 8, 8, dtype=torch.long)))
    # the encoders alone name their arguments too
    with pytest.raises(ValueError, match=r"images must have shape \[P, 3, 8, 8\]"):
        ImageEmbedder(8, image_size=8, hidden_channels=4)(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"poses must have shape \[2, 7\]"):
        PoseImageEncoder(8, image_size=8, hidden_channels=4)(torch.rand(2, 3, 8, 8),
                                                             torch.rand(2, 9))


def test_figure_is_written(mazes: Mazes, tmp_path: Path) -> None:
    batch = _batch(mazes, [0, 1])
    with torch.no_grad():
        pred = SceneRetrieval(**SMALL_MODEL).eval()(batch)
    path = tmp_path / "fig" / "scenes.png"
    fig = plot_scene_retrieval(batch, pred, queries=3, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 3 * 10
    with pytest.raises(ValueError, match="'pred'"):
        plot_scene_retrieval(batch, pred[:, :-1])
