"""Mesh figures: what is drawn (segments, nodes, field image), not how it looks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gen_pyg.mesh import LearnableMesh, grid, halton, icosphere
from gen_pyg.viz import plot_mesh, plot_mesh_comparison, plot_meshes


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_plot_mesh_over_a_field() -> None:
    mesh = grid(4)
    ax = plot_mesh(mesh, field=lambda p: p[:, 0] + 10 * p[:, 1], resolution=16, colorbar=True)
    segments = ax.collections[0].get_segments()
    assert len(segments) == mesh.num_edges // 2  # one per undirected edge
    image = ax.images[0].get_array()
    assert image.shape == (16, 16)
    # drawn with y upwards: row 0 of the image is y = 0, and x grows along columns
    assert image[0, -1] == pytest.approx(1.0) and image[-1, 0] == pytest.approx(10.0)
    offsets = ax.collections[1].get_offsets()
    np.testing.assert_allclose(offsets, mesh.pos.numpy())


def test_plot_mesh_array_field_and_learnable_positions() -> None:
    mesh = LearnableMesh(halton(10))
    field = torch.rand(8, 5)
    ax = plot_mesh(mesh.data(), field=field, title="t")  # pos requires grad: detached
    assert ax.images[0].get_array().shape == (5, 8) and ax.get_title() == "t"


def test_plot_meshes_and_comparison() -> None:
    fig = plot_mesh_comparison(halton(9, seed=0), halton(9, seed=1), field=lambda p: p[:, 0])
    assert [ax.get_title() for ax in fig.axes] == ["initial", "optimised"]
    fig = plot_meshes([grid(2), grid(3), grid(4)], ncols=2)
    assert len(fig.axes) == 3
    # panels share one frame: the union of the meshes' boxes
    fig = plot_meshes([grid(2, bounds=(0.0, 0.5)), grid(2, bounds=(0.25, 1.0))], field=np.eye(3))
    assert [ax.images[0].get_extent() for ax in fig.axes] == [[0.0, 1.0, 0.0, 1.0]] * 2
    with pytest.raises(ValueError, match="titles has 1 entries for 2 meshes"):
        plot_meshes([grid(2), grid(3)], titles=["a"])
    with pytest.raises(ValueError, match="must not be empty"):
        plot_meshes([])


def test_plot_sphere_mesh() -> None:
    mesh = icosphere(1)
    ax = plot_mesh(mesh, field=lambda p: p[:, 2])
    ax.figure.canvas.draw()  # 3-D segments are projected at draw time
    assert len(ax.collections[0].get_segments()) == 120
    with pytest.raises(ValueError, match="callable"):
        plot_mesh(mesh, field=np.zeros((3, 3)))


def test_plot_mesh_bad_input() -> None:
    with pytest.raises(TypeError, match="Data"):
        plot_mesh(torch.rand(3, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"field must be a 2-D array"):
        plot_mesh(grid(2), field=np.zeros(4))
