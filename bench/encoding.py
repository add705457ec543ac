"""Turn (target, text) examples into model inputs; the long-document strategy is chosen here."""

from bench.errors import BenchError

STRATEGIES = ("head",)


def encode(tokenizer, examples: dict, max_length: int, strategy: str, has_target: bool) -> dict:
    """Tokenize a batch: the target is the first segment of a sentence pair, the text the second."""
    if strategy not in STRATEGIES:
        raise BenchError(f"train.long_document={strategy!r} is not available; choose one of {list(STRATEGIES)}")
    if has_target:
        # "head": keep the start of the article, which carries headline and lede
        return tokenizer(examples["target"], examples["text"], truncation="only_second", max_length=max_length)
    return tokenizer(examples["text"], truncation=True, max_length=max_length)
