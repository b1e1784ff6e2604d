"""Scene representation by retrieval (GEN paper §4.3): image encoders and the
:class:`SceneRetrieval` model over a GEN or neural-process core."""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import Data

from gen_pyg._validation import check_int
from gen_pyg.nn._mlp import mlp, reset_mlp
from gen_pyg.nn.models.decoders import PointDecoder
from gen_pyg.nn.models.encoders import PointEncoder
from gen_pyg.nn.models.gen import GEN
from gen_pyg.nn.models.neural_process import NeuralProcess
from gen_pyg.nn.models.processors import ElementProcessor
from gen_pyg.nn.representation import Representation, get_representation

CORES = ("gen", "np")
#: Size of a camera pose :math:`(x, y, z, \cos\psi, \sin\psi, \cos\theta, \sin\theta)`.
POSE_CHANNELS = 7

__all__ = [
    "CORES",
    "ImageEmbedder",
    "PoseImageEncoder",
    "SceneRetrieval",
]


def _as_float_images(images: Tensor) -> Tensor:
    """uint8 images in [0, 255] or float images in [0, 1], centred to [-0.5, 0.5]."""
    if images.dtype == torch.uint8:
        images = images.float() / 255.0
    return images - 0.5



def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        check_int(value, name)


def _check_images(images: object, name: str, size: int, rows: int | None = None) -> Tensor:
    """``images`` is ``[rows, 3, size, size]`` (uint8 or floating), else an error naming
    ``name`` and the model's ``image_size`` (metadata only: no device sync)."""
    if not isinstance(images, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size) or (
            rows is not None and images.size(0) != rows):
        square = (images.dim() == 4 and images.size(1) == 3
                  and images.size(2) == images.size(3) != size)
        hint = (f"; resize the images or build the model with image_size={images.size(3)}"
                if square else "")
        raise ValueError(
            f"{name} must have shape [{'P' if rows is None else rows}, 3, {size}, {size}] (RGB "
            f"images of the model's image_size={size}), got {tuple(images.shape)}{hint}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"{name} must be uint8 in [0, 255] or floating in [0, 1], got dtype "
                        f"{images.dtype}")
    return images


def _check_poses(poses: object, name: str, rows: int, width: int = POSE_CHANNELS) -> Tensor:
    """``poses`` is a floating ``[rows, width]`` tensor of camera poses, else an error naming
    ``name`` (metadata only: no device sync)."""
    if not isinstance(poses, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(poses).__name__}")
    if poses.dim() != 2 or tuple(poses.shape) != (rows, width):
        what = ("camera poses (x, y, z, cos psi, sin psi, cos theta, sin theta)"
                if width == POSE_CHANNELS else f"poses of pose_channels={width}")
        raise ValueError(f"{name} must have shape [{rows}, {width}] ({what}, one per image), "
                         f"got {tuple(poses.shape)}")
    if not poses.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {poses.dtype}")
    return poses

class _ConvTrunk(torch.nn.Module):
    """Three stride-2 3x3 convolutions with batch norm and ReLU, flattened."""

    def __init__(self, image_size: int, hidden_channels: int) -> None:
        super().__init__()
        h = hidden_channels
        layers: list[torch.nn.Module] = []
        for a, b in ((3, h), (h, 2 * h), (2 * h, 2 * h)):
            layers += [torch.nn.Conv2d(a, b, 3, stride=2, padding=1),
                       torch.nn.BatchNorm2d(b), torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*layers)
        side = image_size
        for _ in range(3):
            side = (side + 1) // 2
        self.out_channels = 2 * h * side * side

    def reset_parameters(self) -> None:
        for layer in self.net:
            if isinstance(layer, torch.nn.Conv2d | torch.nn.BatchNorm2d):
                layer.reset_parameters()

    def forward(self, images: Tensor) -> Tensor:
        out: Tensor = self.net(_as_float_images(images)).flatten(1)
        return out


class PoseImageEncoder(torch.nn.Module):
    r"""Encodes an (image, camera pose) pair into a latent vector, the input encoder of the
    scene experiment of the GEN paper (§4.3):

    .. math::
        \mathbf{h} = \mathrm{MLP}\big(\mathrm{CNN}(I) \,\Vert\, \mathbf{p}\big),

    where the CNN is three stride-2 :math:`3 \times 3` convolutions, each followed by batch
    normalisation (which the paper found necessary to keep training stable) and ReLU, and the
    MLP has one hidden layer with batch normalisation.

    Args:
        out_channels (int, optional): Latent size. (default: :obj:`64`)
        image_size (int, optional): Image side :math:`S`. (default: :obj:`32`)
        pose_channels (int, optional): Pose size. (default: :obj:`7`)
        hidden_channels (int, optional): Channels of the first convolution (then twice as
            many). (default: :obj:`32`)

    Shapes:
        - **input:** images :math:`(P, 3, S, S)` (uint8 in [0, 255] or float in [0, 1]),
          poses :math:`(P, \mathrm{pose\_channels})`
        - **output:** :math:`(P, \mathrm{out\_channels})`

    Example:
        >>> enc = PoseImageEncoder(16, image_size=8, hidden_channels=4)
        >>> enc(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, 7)).shape
        torch.Size([2, 16])
    """

    def __init__(self, out_channels: int = 64, image_size: int = 32,
                 pose_channels: int = POSE_CHANNELS, hidden_channels: int = 32) -> None:
        super().__init__()
        _check_sizes(out_channels=out_channels, image_size=image_size,
                            pose_channels=pose_channels, hidden_channels=hidden_channels)
        self.out_channels, self.image_size = out_channels, image_size
        self.pose_channels, self.hidden_channels = pose_channels, hidden_channels
        self.trunk = _ConvTrunk(image_size, hidden_channels)
        self.head = torch.nn.Sequential(
            torch.nn.Linear(self.trunk.out_channels + pose_channels, out_channels),
            torch.nn.BatchNorm1d(out_channels), torch.nn.ReLU(),
            torch.nn.Linear(out_channels, out_channels),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.trunk.reset_parameters()
        for layer in self.head:
            if isinstance(layer, torch.nn.Linear | torch.nn.BatchNorm1d):
                layer.reset_parameters()

    def forward(self, images: Tensor, poses: Tensor) -> Tensor:
        _check_images(images, "images", self.image_size)
        _check_poses(poses, "poses", images.size(0), self.pose_channels)
        out: Tensor = self.head(torch.cat([self.trunk(images), poses.to(torch.float32)], 1))
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.out_channels}, image_size={self.image_size}, "
                f"pose_channels={self.pose_channels}, hidden_channels={self.hidden_channels})")


class ImageEmbedder(torch.nn.Module):
    r"""Embeds candidate images into the space where queries are compared with them
    (GEN paper §4.3): the CNN of :class:`PoseImageEncoder` followed by an MLP,
    :math:`\mathbf{c} = \mathrm{MLP}(\mathrm{CNN}(I))`.

    Args:
        out_channels (int, optional): Embedding size. (default: :obj:`64`)
        image_size (int, optional): Image side :math:`S`. (default: :obj:`32`)
        hidden_channels (int, optional): Channels of the first convolution.
            (default: :obj:`32`)

    Shapes:
        - **input:** images :math:`(K, 3, S, S)`
        - **output:** :math:`(K, \mathrm{out\_channels})`

    Example:
        >>> ImageEmbedder(16, image_size=8, hidden_channels=4)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 16])
    """

    def __init__(self, out_channels: int = 64, image_size: int = 32,
                 hidden_channels: int = 32) -> None:
        super().__init__()
        _check_sizes(out_channels=out_channels, image_size=image_size,
                            hidden_channels=hidden_channels)
        self.out_channels, self.image_size = out_channels, image_size
        self.hidden_channels = hidden_channels
        self.trunk = _ConvTrunk(image_size, hidden_channels)
        self.head = mlp([self.trunk.out_channels, out_channels, out_channels])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.trunk.reset_parameters()
        reset_mlp(self.head)

    def forward(self, images: Tensor) -> Tensor:
        _check_images(images, "images", self.image_size)
        out: Tensor = self.head(self.trunk(images))
        return out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.out_channels}, image_size={self.image_size}, "
                f"hidden_channels={self.hidden_channels})")


class SceneRetrieval(torch.nn.Module):
    r"""Picks the image seen from a query camera pose among candidate images, given context
    views of the same scene: the scene-representation model of the GEN paper (§4.3,
    appendix A.5).

    Context pairs :math:`(I_p, \mathbf{p}_p)` at camera positions :math:`x_p` (the pose's
    :math:`(x, y)`) are encoded by :class:`PoseImageEncoder` into :math:`\mathbf{h}_p`; the
    core turns them into a latent :math:`\mathbf{z}(x_q)` at each query position; the decoder
    maps it with ``pose_copies`` copies of the query pose into the embedding space, where
    candidates are embedded by :class:`ImageEmbedder`; the logits are negative squared
    distances,

    .. math::
        \mathbf{e}_q = \mathrm{MLP}\big(\mathbf{z}(x_q) \,\Vert\,
        \mathbf{p}_q^{\,\times c}\big), \qquad
        \ell_{qk} = -\lVert \mathbf{e}_q - \mathrm{emb}(I_k) \rVert^2 .

    With ``core="gen"`` :math:`\mathbf{z}` comes from a :class:`~gen_pyg.nn.GEN` on the
    example's mesh (bilinear representation on a grid over camera :math:`(x, y)`, whose
    output is the latent); with ``core="np"`` from a
    :class:`~gen_pyg.nn.NeuralProcess` (mean of the encodings, one vector per example). As in
    the paper, the neural process gets a deeper and wider decoder (depth 4, twice the width,
    against depth 2) and more pose copies (32 against 8) to make up for the message passing.

    The candidates of a batch are all its query images followed by all its context images,
    so the true candidate of query :math:`q` is candidate :math:`q`: the engine's
    ``"retrieval_cross_entropy"`` and ``"retrieval_accuracy"`` objectives
    (:class:`~gen_pyg.training.RetrievalCrossEntropy`,
    :class:`~gen_pyg.training.RetrievalAccuracy`) train and score it.

    Args:
        core (str, optional): ``"gen"`` or ``"np"``. (default: :obj:`"gen"`)
        latent_channels (int, optional): Size of :math:`\mathbf{h}` and :math:`\mathbf{z}`
            (and the GEN's node states). (default: :obj:`64`)
        embed_channels (int, optional): Size of the embedding space. (default: :obj:`64`)
        image_size (int, optional): Image side :math:`S`. (default: :obj:`32`)
        cnn_channels (int, optional): Channels of the first convolution of both CNNs.
            (default: :obj:`32`)
        pose_copies (int, optional): Copies :math:`c` of the query pose fed to the decoder;
            ``None`` is 8 for the GEN and 32 for the neural process. (default: :obj:`None`)
        num_steps (int, optional): GEN message-passing rounds. The default reaches one
            maze side on :class:`~gen_pyg.datasets.Mazes`' default mesh (4 cells per maze)
            and stays the same on bigger supermazes, whose mazes are independent; ``None``
            uses the largest mesh diameter of the batch, as the paper (9 rounds on its
            :math:`5 \times 5` grid), which also learns, but more slowly at first.
            (default: :obj:`4`)
        representation (str or Representation, optional): How the GEN writes the context
            latents into its nodes and reads them back (ignored by the neural process);
            ``"bilinear"`` is the paper's. (default: :obj:`"bilinear"`)

    Shapes:
        - **input:** a :class:`~torch_geometric.data.Data` or
          :class:`~torch_geometric.data.Batch` of :class:`~gen_pyg.datasets.Mazes` examples:
          ``input_img`` :math:`(P, 3, S, S)`, ``input_pose`` :math:`(P, 7)`, ``input_pos``
          :math:`(P, 2)`, ``query_img`` :math:`(Q, 3, S, S)`, ``query_pose`` :math:`(Q, 7)`,
          ``query_pos`` :math:`(Q, 2)`, and for the GEN the grid mesh
        - **output:** logits :math:`(Q, Q + P)`

    Example:
        >>> from torch_geometric.data import Data
        >>> from gen_pyg.mesh import grid
        >>> mesh = grid(3, edges="lattice")
        >>> data = Data(**mesh.to_dict(), input_pos=torch.rand(4, 2),
        ...             input_pose=torch.rand(4, 7), input_img=torch.rand(4, 3, 8, 8),
        ...             query_pos=torch.rand(1, 2), query_pose=torch.rand(1, 7),
        ...             query_img=torch.rand(1, 3, 8, 8))
        >>> model = SceneRetrieval(latent_channels=8, embed_channels=8, image_size=8,
        ...                        cnn_channels=4)
        >>> model(data).shape
        torch.Size([1, 5])
    """

    def __init__(self, core: str = "gen", latent_channels: int = 64, embed_channels: int = 64,
                 image_size: int = 32, cnn_channels: int = 32, pose_copies: int | None = None,
                 num_steps: int | None = 4,
                 representation: str | Representation = "bilinear") -> None:
        super().__init__()
        if core not in CORES:
            raise ValueError(f"'core' must be one of {CORES} (got {core!r})")
        copies = (8 if core == "gen" else 32) if pose_copies is None else pose_copies
        _check_sizes(latent_channels=latent_channels, embed_channels=embed_channels,
                            image_size=image_size, cnn_channels=cnn_channels,
                            pose_copies=copies)
        self.core_name, self.latent_channels = core, latent_channels
        self.embed_channels, self.image_size, self.pose_copies = embed_channels, image_size, copies
        self.encoder = PoseImageEncoder(latent_channels, image_size, POSE_CHANNELS, cnn_channels)
        self.candidate_encoder = ImageEmbedder(embed_channels, image_size, cnn_channels)
        L = latent_channels
        self.core: GEN | NeuralProcess
        decoder_in = L + POSE_CHANNELS * copies
        if core == "gen":
            rep = get_representation(representation)
            self.core = GEN(PointEncoder(L, L, rep, hidden_channels=L),
                            ElementProcessor(L, num_steps=num_steps, message_channels=L,
                                             edge_hidden_channels=2 * L,
                                             node_hidden_channels=2 * L),
                            PointDecoder(L, L, rep, hidden_channels=L))
            self.decoder = mlp([decoder_in, 2 * L, embed_channels])
        else:
            self.core = NeuralProcess(in_channels=L, out_channels=L, latent_channels=L,
                                      encoder_hidden_channels=2 * L,
                                      decoder_hidden_channels=2 * L)
            self.decoder = mlp([decoder_in, 4 * L, 4 * L, 4 * L, embed_channels])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.candidate_encoder.reset_parameters()
        self.core.reset_parameters()
        reset_mlp(self.decoder)

    def embed_queries(self, data: Data) -> Tensor:
        """Query embeddings :math:`\\mathbf{e}_q` :obj:`[Q, embed_channels]`."""
        for key in ("input_img", "input_pose", "input_pos", "query_pose", "query_pos"):
            if not isinstance(getattr(data, key, None), Tensor):
                raise ValueError(f"SceneRetrieval input is missing 'data.{key}'")
        self._check_views(data, "input", data.input_pos)
        self._check_views(data, "query", data.query_pos, images=False)
        h = self.encoder(data.input_img, data.input_pose)
        inner = copy.copy(data)
        inner.input_x = h
        z = self.core(inner)
        poses = data.query_pose.to(z.dtype).repeat(1, self.pose_copies)
        out: Tensor = self.decoder(torch.cat([z, poses], 1))
        return out

    def candidates(self, data: Data) -> Tensor:
        """The candidate images of ``data``: its query images, then its context images."""
        if not isinstance(getattr(data, "query_img", None), Tensor):
            raise ValueError("SceneRetrieval input is missing 'data.query_img'")
        query_pos = getattr(data, "query_pos", None)
        rows = query_pos.size(0) if isinstance(query_pos, Tensor) and query_pos.dim() else None
        _check_images(data.query_img, "data.query_img", self.image_size, rows)
        _check_images(data.input_img, "data.input_img", self.image_size)
        return torch.cat([data.query_img, data.input_img], 0)

    def _check_views(self, data: Data, side: str, pos: Tensor, images: bool = True) -> None:
        """The images and poses of the ``side`` views (``input`` or ``query``): one per row of
        ``pos``, of the model's image size and pose width (metadata only, no device sync)."""
        rows = pos.size(0) if pos.dim() else 0
        if images:
            _check_images(data[f"{side}_img"], f"data.{side}_img", self.image_size, rows)
        _check_poses(data[f"{side}_pose"], f"data.{side}_pose", rows)

    def forward(self, data: Data) -> Tensor:
        queries = self.embed_queries(data)
        keys: Tensor = self.candidate_encoder(self.candidates(data))
        dist = (queries.pow(2).sum(1, keepdim=True) - 2.0 * queries @ keys.t()
                + keys.pow(2).sum(1).unsqueeze(0))
        return -dist

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(core={self.core_name!r}, "
                f"latent_channels={self.latent_channels}, embed_channels={self.embed_channels}, "
                f"image_size={self.image_size}, pose_copies={self.pose_copies}"
                + (f", num_steps={self.core.num_steps}" if isinstance(self.core, GEN) else "")
                + ")")
