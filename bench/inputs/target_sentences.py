"""Text-level input selection for long articles: the sentences that mention the target (model.long_document).

`target_sentences` keeps every sentence that names the target or one of its aliases, with one sentence either
side, in article order; an article that never names the target keeps its text unchanged (then cut to the head).
This only chooses which words the model reads; labels are untouched.
"""

import re

# a sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace and an
# upper-case letter, digit or opening quote; a line break always ends one (headline, paragraphs)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]?\s+(?=[\"'“‘(\[]?[A-Z0-9])|\s*\n+\s*")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Prof|No|vs|Jr|Sr)\.)$")


def split_sentences(text: str) -> list[str]:
    """Sentences of a news text, by a simple rule (see _SENTENCE_END) that does not split after U.S. or Mr."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if "\n" not in m.group() and _ABBREVIATION.search(text[: m.start()]):
            continue  # "the U.S. Navy", "Mr. Putin": not a sentence end
        piece = text[start : m.start()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def alias_pattern(target: str, names=None) -> re.Pattern:
    """Whole-word match of the target's aliases (case-sensitive; the task card's `aliases`), or of its name
    (case-insensitive) where the card lists none."""
    if not names:
        return re.compile(rf"(?<!\w){re.escape(target)}(?!\w)", re.IGNORECASE)
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def select_target_sentences(text: str, target: str, aliases=None, window: int = 1) -> str:
    """The sentences mentioning the target (or one of its aliases) and `window` neighbours each side, in order;
    the text if none does."""
    sentences = split_sentences(text)
    pattern = alias_pattern(target, aliases)
    hits = [i for i, s in enumerate(sentences) if pattern.search(s)]
    if not hits:
        return text
    keep = sorted({j for i in hits for j in range(i - window, i + window + 1) if 0 <= j < len(sentences)})
    return " ".join(sentences[j] for j in keep)
