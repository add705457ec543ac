"""Turn (target, text) examples into model inputs with a long-document strategy; merge window logits back.

The target is the first segment of a sentence pair, the text the second (or, with target_segment="second" and the
head strategy, the other way round). The strategies themselves live in
bench.inputs.strategies; the chunk strategies train on the head window and read every window at prediction.
"""

import numpy as np

from bench.errors import BenchError
from bench.inputs.strategies import MODEL_KEYS, get, prepare_texts, softmax

__all__ = ["aggregate", "encode", "softmax", "train_strategy"]


def train_strategy(strategy: str) -> str:
    """The strategy used for training inputs: the chunk strategies train on the head window."""
    return get(strategy).train_with or strategy


def encode(
    tokenizer, examples: dict, max_length: int, strategy: str, has_target: bool, aliases=None, target_segment="first"
) -> dict:
    """Tokenize a batch; returns lists of model inputs and `example`: for each input row the index of the example
    it came from (several rows per example for the chunk strategies, one otherwise)."""
    targets = list(examples["target"])
    texts = prepare_texts(strategy, list(examples["text"]), targets, has_target, aliases)
    if has_target and target_segment == "second":  # the text first, cut so that the whole target fits after it
        if strategy != "head":
            raise BenchError(f"the target in the second segment needs the head strategy, not {strategy!r}")
        enc = tokenizer(texts, targets, truncation="only_first", max_length=max_length)
        rows = list(range(len(texts)))
    else:
        args = (targets, texts) if has_target else (texts,)
        enc, rows = get(strategy).encode(tokenizer, args, max_length, has_target)
    out = {k: list(enc[k]) for k in MODEL_KEYS if k in enc}
    out["example"] = rows
    return out


def aggregate(logits, rows: list[int], n: int, strategy: str) -> np.ndarray:
    """One row of logits per example from its input rows, merged by the strategy; rows that map one-to-one are
    put back in example order (they may come sorted by length)."""
    logits = np.asarray(logits)
    rows = np.asarray(rows, dtype=np.int64)
    counts = np.bincount(rows, minlength=n)
    if len(counts) != n or (counts == 0).any():
        raise BenchError(f"window mapping covers {int((counts > 0).sum())} of {n} examples; re-tokenize the split")
    if len(rows) == n:
        ordered = np.empty_like(logits)
        ordered[rows] = logits
        return ordered
    merge = get(strategy).merge
    if merge is None:
        raise BenchError(f"model.long_document={strategy!r} makes one input per example; nothing to aggregate")
    return merge(logits, rows, n)
