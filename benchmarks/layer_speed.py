"""A GEN training step eager against ``torch.compile``, in float32 against bfloat16 autocast,
side by side in one run on the same batches.

A step is forward + backward + Adam on a batch of 32 examples (64 samples of one input
function and 256 queries each) on a k x k grid mesh with its diameter as the number of
rounds, latent size 32, called through the GEN's tensor forward, as a PyG user's model would.
Each variant is timed on the same batch for each k: eager float32, eager under
``torch.autocast(dtype=torch.bfloat16)``, compiled (``torch.compile``, inductor) float32, and
compiled under autocast. The compile time of the first call and the number of graph breaks
(``torch._dynamo.explain``) are recorded next to the step times.

    python benchmarks/layer_speed.py            # k = 7, the paper's largest mesh
    python benchmarks/layer_speed.py --quick    # k = 3, short timing
    python benchmarks/layer_speed.py --sizes 3 5 7

Compiling takes minutes on a CPU (the batched dense representation still breaks the graph:
see ``graph_breaks``), so each run compiles once per size and variant.

Writes benchmarks/results/layer_speed.json (``layer_speed_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
from torch_geometric.data import Batch, Data

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h
from gen_pyg.mesh import grid
from gen_pyg.nn import GEN

EXAMPLES, INPUTS, QUERIES = 32, 64, 256


def make_batch(k: int, g: torch.Generator) -> Batch:
    mesh = grid(k)
    examples = [
        Data(pos=mesh.pos, edge_index=mesh.edge_index, num_nodes=mesh.num_nodes,
             input_pos=torch.rand(INPUTS, 2, generator=g),
             input_x=torch.rand(INPUTS, 1, generator=g),
             query_pos=torch.rand(QUERIES, 2, generator=g),
             y=torch.rand(QUERIES, 1, generator=g))
        for _ in range(EXAMPLES)
    ]
    return Batch.from_data_list(examples, follow_batch=["input_pos", "query_pos"])


def measure(fn: Callable[[], None], seconds: float) -> float:
    """Median seconds per call over at least 3 calls and about ``seconds`` of calls."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__, name="layer_speed")
    parser.add_argument("--seconds", type=float, default=None,
                        help="timing budget per cell (default 3.0, 0.5 with --quick)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="grid sizes k (default 7; 3 with --quick)")
    args = parser.parse_args(argv)
    h.set_threads(args.threads)
    seconds = args.seconds if args.seconds is not None else (0.5 if args.quick else 3.0)
    sizes = args.sizes or ([3] if args.quick else [7])
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    rows = []
    for k in sizes:
        batch = make_batch(k, g)
        steps = 2 * (k - 1)
        model = GEN.paper(num_steps=steps)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        args_t = (batch.input_x, batch.input_pos, batch.pos, batch.edge_index, batch.query_pos)
        kwargs_t = {"input_batch": batch.input_pos_batch, "batch": batch.batch,
                    "query_batch": batch.query_pos_batch, "batch_size": EXAMPLES}
        compiled = torch.compile(model)

        def step(run: Callable[..., torch.Tensor],
                 context: Callable[[], AbstractContextManager[object]]) -> None:
            optimizer.zero_grad(set_to_none=True)
            with context():
                out = run(*args_t, **kwargs_t)
            torch.nn.functional.mse_loss(out.float(), batch.y).backward()
            optimizer.step()

        def bf16() -> AbstractContextManager[object]:
            return torch.autocast("cpu", dtype=torch.bfloat16)

        torch._dynamo.reset()
        breaks = int(torch._dynamo.explain(model)(*args_t, **kwargs_t).graph_break_count)
        torch._dynamo.reset()
        row: dict[str, float | int] = {"k": k, "rounds": steps, "graph_breaks": breaks}
        for name, run, context in (("eager_fp32", model, nullcontext),
                                   ("eager_bf16", model, bf16),
                                   ("compiled_fp32", compiled, nullcontext),
                                   ("compiled_bf16", compiled, bf16)):
            t0 = time.perf_counter()
            step(run, context)  # the first call compiles
            row[f"{name}_first_call_s"] = time.perf_counter() - t0
            row[f"{name}_step_ms"] = 1e3 * measure(lambda r=run, c=context: step(r, c), seconds)
        row["compiled_speedup_fp32"] = row["eager_fp32_step_ms"] / row["compiled_fp32_step_ms"]
        row["bf16_speedup_eager"] = row["eager_fp32_step_ms"] / row["eager_bf16_step_ms"]
        rows.append(row)
        print(f"k={k}: step ms  eager fp32 {row['eager_fp32_step_ms']:.1f}  eager bf16 "
              f"{row['eager_bf16_step_ms']:.1f}  compiled fp32 {row['compiled_fp32_step_ms']:.1f}"
              f"  compiled bf16 {row['compiled_bf16_step_ms']:.1f}  ({breaks} graph breaks)")
    record = h.header("layer_speed.py", argv, quick=args.quick, seeds=[0])
    record["what"] = (f"median ms of one training step (forward + backward + Adam), {EXAMPLES} "
                      f"examples of {INPUTS} samples and {QUERIES} queries, latent 32, "
                      "T = 2(k-1), GEN tensor forward")
    record["rows"] = rows
    path = h.write_record(h.result_name(args), record, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
