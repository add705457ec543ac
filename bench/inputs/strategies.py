"""Long-document strategies, registered by name (`model.long_document=<name>`, docs/LONG_DOCUMENTS.md).

A strategy turns a batch of (target, text) pairs into model inputs -- one row per example, or several windows --
and, when it makes several, says how window logits merge back into one prediction. A new strategy is one
decorated function here.

  head              the first max_length tokens (headline and lede)
  head_tail         the first half and the last half of the token budget, the middle of the article dropped
  chunks_mean       overlapping windows over the whole article; one prediction from the mean of the window logits
  chunks_max        the same windows; the prediction of the window whose softmax is most confident
  target_sentences  the sentences naming the target (the task card's aliases) and their neighbours, then head
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.errors import BenchError
from bench.inputs.target_sentences import select_target_sentences

MODEL_KEYS = ("input_ids", "token_type_ids", "attention_mask")


@dataclass(frozen=True)
class Strategy:
    name: str
    encode: Callable  # (tokenizer, args, max_length, has_target) -> (encoding, example index of each row)
    merge: Callable | None = None  # (logits, rows, n) -> one row of logits per example; None: one input each
    train_with: str | None = None  # the strategy for training inputs (None: this one)
    per_target_text: bool = False  # reads a different text per target: needs targets, not the joint formulation


STRATEGIES: dict[str, Strategy] = {}


def register_strategy(name: str, *, merge=None, train_with=None, per_target_text=False):
    def register(fn):
        STRATEGIES[name] = Strategy(name, fn, merge, train_with, per_target_text)
        return fn

    return register


def get(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise BenchError(f"model.long_document={name!r} is not available; choose one of {sorted(STRATEGIES)}")
    return STRATEGIES[name]


def stride(max_length: int) -> int:
    """Tokens shared by consecutive windows of the chunk strategies: a quarter of the window."""
    return max_length // 4


def _truncation(has_target: bool):
    return "only_second" if has_target else True


@register_strategy("head")
def head(tokenizer, args, max_length: int, has_target: bool):
    """The start of the text, cut at max_length tokens."""
    return tokenizer(*args, truncation=_truncation(has_target), max_length=max_length), list(range(len(args[-1])))


@register_strategy("target_sentences", per_target_text=True)
def target_sentences(tokenizer, args, max_length: int, has_target: bool):
    """The text was cut to the target's sentences before tokenizing (bench.inputs.encoding); then its head."""
    return head(tokenizer, args, max_length, has_target)


@register_strategy("head_tail")
def head_tail(tokenizer, args, max_length: int, has_target: bool):
    """Whole articles tokenized, then the middle of the text segment cut so that max_length tokens remain:
    the first half of the text budget from the start of the article, the rest from its end."""
    if not getattr(tokenizer, "is_fast", False):
        raise BenchError("model.long_document=head_tail needs a fast (Rust) tokenizer; use head or chunks_*")
    segment = 1 if has_target else 0
    enc = tokenizer(*args, truncation=False, verbose=False)
    out = {k: [] for k in MODEL_KEYS if k in enc}
    for i in range(len(enc["input_ids"])):
        seq = enc.sequence_ids(i)
        text = [j for j, s in enumerate(seq) if s == segment]
        budget = max(max_length - (len(seq) - len(text)), 0)  # text tokens that fit beside target and specials
        drop = set()
        if len(text) > budget:
            first = budget // 2
            drop = set(text[first : len(text) - (budget - first)])
        for k in out:
            out[k].append([v for j, v in enumerate(enc[k][i]) if j not in drop])
    return out, list(range(len(args[-1])))


def _windows(tokenizer, args, max_length: int, has_target: bool):
    enc = tokenizer(
        *args,
        truncation=_truncation(has_target),
        max_length=max_length,
        stride=stride(max_length),
        return_overflowing_tokens=True,
    )
    return enc, list(enc["overflow_to_sample_mapping"])


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def mean_of_windows(logits: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(rows, minlength=n)
    sums = np.zeros((n, logits.shape[1]), dtype=np.float64)
    np.add.at(sums, rows, logits)
    return (sums / counts[:, None]).astype(logits.dtype)


def most_confident_window(logits: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    confidence = softmax(logits.astype(np.float64)).max(axis=-1)
    order = np.lexsort((-confidence, rows))  # by example, most confident window first
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    return logits[first]


register_strategy("chunks_mean", merge=mean_of_windows, train_with="head")(_windows)
register_strategy("chunks_max", merge=most_confident_window, train_with="head")(_windows)


def prepare_texts(strategy: str, texts: list[str], targets: list[str], has_target: bool, aliases=None) -> list[str]:
    """Text-level selection before tokenizing (target_sentences: the sentences naming each target)."""
    if not get(strategy).per_target_text:
        return texts
    if not has_target:
        raise BenchError(f"model.long_document={strategy} needs a task with targets; use head or head_tail")
    aliases = aliases or {}
    return [select_target_sentences(x, t, aliases.get(t)) for x, t in zip(texts, targets, strict=True)]
