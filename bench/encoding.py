"""Turn (target, text) examples into model inputs with a long-document strategy; merge window logits back.

Strategies (`train.long_document`, docs/LONG_DOCUMENTS.md):
  head              the first max_length tokens (headline and lede)
  head_tail         the first half and the last half of the token budget, the middle of the article dropped
  chunks_mean       overlapping windows over the whole article; one prediction from the mean of the window logits
  chunks_max        the same windows; the prediction of the window whose softmax is most confident
  target_sentences  the sentences naming the target (bench.long_document aliases) and their neighbours, then head

The chunk strategies train on the first window (the `head` input) and read every window at prediction.
"""

import numpy as np

from bench.errors import BenchError
from bench.long_document import select_target_sentences

STRATEGIES = ("head", "head_tail", "chunks_mean", "chunks_max", "target_sentences")
CHUNKED = ("chunks_mean", "chunks_max")
MODEL_KEYS = ("input_ids", "token_type_ids", "attention_mask")


def stride(max_length: int) -> int:
    """Tokens shared by consecutive windows of the chunk strategies: a quarter of the window."""
    return max_length // 4


def train_strategy(strategy: str) -> str:
    """The strategy used for training inputs: the chunk strategies train on the head window."""
    return "head" if strategy in CHUNKED else strategy


def encode(tokenizer, examples: dict, max_length: int, strategy: str, has_target: bool) -> dict:
    """Tokenize a batch: the target is the first segment of a sentence pair, the text the second.

    Returns lists of model inputs (input_ids, attention_mask and token_type_ids when the tokenizer makes them)
    and `example`: for each input row the index of the example it came from (several rows per example for the
    chunk strategies, one otherwise).
    """
    if strategy not in STRATEGIES:
        raise BenchError(f"train.long_document={strategy!r} is not available; choose one of {list(STRATEGIES)}")
    texts, targets = list(examples["text"]), list(examples["target"])
    if strategy == "target_sentences":
        if not has_target:
            raise BenchError("train.long_document=target_sentences needs a task with targets; use head or head_tail")
        texts = [select_target_sentences(x, t) for x, t in zip(texts, targets, strict=True)]
    args = (targets, texts) if has_target else (texts,)
    truncation = "only_second" if has_target else True
    if strategy in CHUNKED:
        enc = tokenizer(
            *args,
            truncation=truncation,
            max_length=max_length,
            stride=stride(max_length),
            return_overflowing_tokens=True,
        )
        rows = list(enc["overflow_to_sample_mapping"])
    elif strategy == "head_tail":
        enc, rows = _head_tail(tokenizer, args, max_length, segment=1 if has_target else 0), list(range(len(texts)))
    else:  # head, target_sentences: keep the start
        enc, rows = tokenizer(*args, truncation=truncation, max_length=max_length), list(range(len(texts)))
    out = {k: list(enc[k]) for k in MODEL_KEYS if k in enc}
    out["example"] = rows
    return out


def _head_tail(tokenizer, args, max_length: int, segment: int) -> dict:
    """Whole articles tokenized, then the middle of the text segment cut so that max_length tokens remain:
    the first half of the text budget from the start of the article, the rest from its end."""
    if not getattr(tokenizer, "is_fast", False):
        raise BenchError("train.long_document=head_tail needs a fast (Rust) tokenizer; use head or chunks_*")
    enc = tokenizer(*args, truncation=False, verbose=False)
    out = {k: [] for k in MODEL_KEYS if k in enc}
    for i in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(i)
        text = [j for j, s in enumerate(seq) if s == segment]
        budget = max(max_length - (len(seq) - len(text)), 0)  # text tokens that fit beside target and specials
        drop = set()
        if len(text) > budget:
            head = budget // 2
            drop = set(text[head : len(text) - (budget - head)])
        for k in out:
            out[k].append([v for j, v in enumerate(enc[k][i]) if j not in drop])
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def aggregate(logits, rows: list[int], n: int, strategy: str) -> np.ndarray:
    """One row of logits per example from its input rows: the mean over windows (chunks_mean), or the logits of
    the window with the highest softmax probability (chunks_max); rows map one-to-one for the other strategies,
    in any order."""
    logits = np.asarray(logits)
    rows = np.asarray(rows, dtype=np.int64)
    counts = np.bincount(rows, minlength=n)
    if len(counts) != n or (counts == 0).any():
        raise BenchError(f"window mapping covers {int((counts > 0).sum())} of {n} examples; re-tokenize the split")
    if len(rows) == n:  # one input per example, possibly in another order (sorted by length): put it back
        ordered = np.empty_like(logits)
        ordered[rows] = logits
        return ordered
    if strategy == "chunks_mean":
        sums = np.zeros((n, logits.shape[1]), dtype=np.float64)
        np.add.at(sums, rows, logits)
        return (sums / counts[:, None]).astype(logits.dtype)
    if strategy == "chunks_max":
        confidence = softmax(logits.astype(np.float64)).max(axis=-1)
        order = np.lexsort((-confidence, rows))  # by example, most confident window first
        first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
        return logits[first]
    raise BenchError(f"train.long_document={strategy!r} makes one input per example; nothing to aggregate")
