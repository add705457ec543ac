"""Text-level input selection for long articles: the sentences that mention the target (train.long_document).

`target_sentences` keeps every sentence that names the target or one of its aliases, with one sentence either
side, in article order; an article that never names the target keeps its text unchanged (then cut to the head).
This only chooses which words the model reads; labels are untouched.
"""

import re

# Names that refer to a target in news text. Matched case-sensitively as whole words (proper nouns and acronyms:
# "US" the country, not "us"); a target missing here is matched by its own name, case-insensitively.
ALIASES: dict[str, tuple[str, ...]] = {
    "russia": (
        "Russia",
        "Russian",
        "Russians",
        "Moscow",
        "Kremlin",
        "Putin",
        "Lavrov",
        "Medvedev",
        "Shoigu",
        "Peskov",
        "Gazprom",
    ),
    "ukraine": (
        "Ukraine",
        "Ukrainian",
        "Ukrainians",
        "Kyiv",
        "Kiev",
        "Zelensky",
        "Zelenskyy",
        "Poroshenko",
        "Yanukovych",
        "Yatsenyuk",
        "Kuleba",
        "Donbas",
        "Donbass",
    ),
    "china": (
        "China",
        "Chinese",
        "Beijing",
        "Xi",
        "Xi Jinping",
        "PLA",
        "People's Liberation Army",
        "Communist Party",
        "CCP",
        "Wang Yi",
        "Li Keqiang",
    ),
    "west": (
        "West",
        "Western",
        "NATO",
        "EU",
        "European Union",
        "Brussels",
        "Washington",
        "United States",
        "U.S.",
        "US",
        "America",
        "American",
        "Americans",
        "Britain",
        "British",
        "UK",
        "U.K.",
        "Pentagon",
        "State Department",
        "White House",
        "G7",
    ),
}

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


def alias_pattern(target: str) -> re.Pattern:
    """Whole-word match of the target's aliases (case-sensitive), or of its name (case-insensitive)."""
    names = ALIASES.get(target.lower())
    if not names:
        return re.compile(rf"(?<!\w){re.escape(target)}(?!\w)", re.IGNORECASE)
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def select_target_sentences(text: str, target: str, window: int = 1) -> str:
    """The sentences mentioning the target and `window` neighbours each side, in order; the text if none does."""
    sentences = split_sentences(text)
    pattern = alias_pattern(target)
    hits = [i for i, s in enumerate(sentences) if pattern.search(s)]
    if not hits:
        return text
    keep = sorted({j for i in hits for j in range(i - window, i + window + 1) if 0 <= j < len(sentences)})
    return " ".join(sentences[j] for j in keep)
