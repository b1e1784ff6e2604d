"""The authors-style GEN baseline that ``throughput.py`` times and ``time_to_accuracy.py``
trains (not part of the package): the structure of the authors' public PyG code
(github.com/FerranAlet/graph_element_networks, GEN.py), written afresh for these comparisons."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv


class AuthorsStyleGEN(nn.Module):
    """The structure of the authors' GEN.py, written afresh for this comparison."""

    def __init__(self, latent: int = 32) -> None:
        super().__init__()

        def two_layer(i: int, h: int, o: int) -> nn.Module:
            return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))

        self.encoders = nn.ModuleList([two_layer(3, 48, latent), two_layer(3, 48, latent)])
        self.decoder = two_layer(latent + 2, 32, 1)
        self.conv = GCNConv(latent + 2, latent)
        self.norm = nn.LayerNorm(latent)

    @staticmethod
    def repr_fn(node_pos: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        # [B, P, N] softmax over all nodes of minus the distance
        # cdist-mm-ok: softmax weights of a timed baseline, never compared exactly
        dist = torch.cdist(x, node_pos.unsqueeze(0).expand(x.size(0), -1, -1))
        return torch.softmax(-dist, dim=-1)

    def forward(
        self,
        inputs: list[tuple[torch.Tensor, torch.Tensor]],
        queries: torch.Tensor,
        mesh: Data,
        steps: int,
    ) -> torch.Tensor:
        encoded = torch.cat(
            [enc(torch.cat(inp, -1)) for inp, enc in zip(inputs, self.encoders, strict=False)], 1
        )
        x_inp = torch.cat([inp[0] for inp in inputs], 1)
        return self._process(x_inp, encoded, queries, mesh, steps)

    def forward_dense(self, pos: torch.Tensor, x: torch.Tensor, fn: torch.Tensor,
                      queries: torch.Tensor, mesh: Data, steps: int) -> torch.Tensor:
        """The same model on ``[B, P]`` samples of both functions at once (``fn`` says which
        encoder a sample takes): houses with different sample counts per function batch."""
        feats = torch.cat([pos, x], -1)
        encoded = torch.where((fn == 0).unsqueeze(-1), self.encoders[0](feats),
                              self.encoders[1](feats))
        return self._process(pos, encoded, queries, mesh, steps)

    def _process(self, x_inp: torch.Tensor, encoded: torch.Tensor, queries: torch.Tensor,
                 mesh: Data, steps: int) -> torch.Tensor:
        nodes = torch.bmm(self.repr_fn(mesh.pos, x_inp).transpose(1, 2), encoded)
        bs, n, f = nodes.shape
        graph = Batch.from_data_list(
            [
                Data(x=x.squeeze(0), pos=mesh.pos, edge_index=mesh.edge_index)
                for x in torch.split(nodes, 1, dim=0)
            ]
        )
        h = graph.x
        for _ in range(steps):
            h = self.norm(h + self.conv(torch.cat([graph.pos, h], -1), graph.edge_index))
        h = h.reshape(bs, n, f)
        lat = torch.bmm(self.repr_fn(mesh.pos, queries), h)
        return self.decoder(torch.cat([lat, queries], -1))
