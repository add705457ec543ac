"""Prompts as data for prompted models (`model.kind=llm`): one YAML template per task family under
configs/prompts/, few-shot demonstrations drawn from train, and the strict parser that turns an answer into a label.

A template has `system`, `user` and `answer` strings with {placeholders} (literal braces doubled), `targets` and
`labels` definitions, and `target_fallback` / `label_fallback` for names it does not define. Placeholders:
{description} {target_definitions} {label_definitions} {labels} (system), {text} {target} {labels} (user),
{label} (answer).
"""

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.cache import digest
from bench.config import CONFIG_DIR
from bench.errors import BenchError

PROMPTS_DIR = CONFIG_DIR / "prompts"
THINK = re.compile(r"<think>.*?(</think>|$)", re.S)  # reasoning models' scratchpad: not the answer


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    system: str
    user: str
    answer: str
    targets: dict
    labels: dict
    target_fallback: str
    label_fallback: str
    sha256: str


def choose(name: str | None, task) -> str:
    """model.prompt, or the task family's template: `stance` for targeted tasks, `tone` for single-label ones."""
    return name or ("stance" if task.target_field is not None else "tone")


def load(name: str) -> Template:
    """configs/prompts/<name>.yaml, checked for the keys every template needs."""
    path = PROMPTS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PROMPTS_DIR.glob("*.yaml"))
        raise BenchError(f"model.prompt={name!r} has no template {path}; use one of {known}")
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text) or {}
    missing = [k for k in ("system", "user", "answer") if not isinstance(raw.get(k), str)]
    if missing:
        raise BenchError(f"{path}: the template needs the string keys {missing}")
    return Template(
        name, path, raw["system"], raw["user"], raw["answer"], dict(raw.get("targets") or {}),
        dict(raw.get("labels") or {}), raw.get("target_fallback", "{target}"),
        raw.get("label_fallback", "- {label}"), digest(text),
    )  # fmt: skip


def fill(tpl: Template, key: str, template: str, **values) -> str:
    """One template string with its placeholders filled; an unknown placeholder is a BenchError naming it."""
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as e:
        raise BenchError(
            f"{tpl.path}: {key} uses the placeholder {e} which is not one of {sorted(values)} "
            "(write literal braces as {{ and }})"
        ) from None


def system_message(tpl: Template, task) -> str:
    """The system prompt of a task: its description, its targets' and labels' definitions, its label list."""
    labels = list(task.labels)
    targets = list(task.targets) if task.target_field is not None else []
    target_defs = [fill(tpl, "targets", tpl.targets.get(t, tpl.target_fallback), target=t) for t in targets]
    label_defs = [fill(tpl, "labels", tpl.labels.get(lab, tpl.label_fallback), label=lab) for lab in labels]
    return fill(
        tpl, "system", tpl.system, description=task.description, target_definitions="\n".join(target_defs),
        label_definitions="\n".join(label_defs), labels=", ".join(labels),
    ).strip()  # fmt: skip


def clip(text: str, max_chars: int | None) -> str:
    """The text, cut at a word boundary to max_chars (model.max_chars) so long articles fit the context."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0] + " [...]"


def messages(tpl: Template, system: str, example: dict, shots: list[dict], labels, max_chars=None) -> list[dict]:
    """Chat messages: system, then each shot as a user turn and its gold answer, then the example's user turn."""

    def user(e):
        text = clip(e["text"], max_chars)
        return fill(tpl, "user", tpl.user, text=text, target=e.get("target") or "", labels=", ".join(labels)).strip()

    out = [{"role": "system", "content": system}]
    for s in shots:
        answer = fill(tpl, "answer", tpl.answer, label=s["label"])
        out += [{"role": "user", "content": user(s)}, {"role": "assistant", "content": answer}]
    return out + [{"role": "user", "content": user(example)}]


def select_shots(train: list[dict], k: int, seed: int, labels) -> dict:
    """k training examples per target (key None for single-label tasks), labels taken in turn so each appears,
    chosen with `seed`; the same shots serve every example of that target."""
    rng = random.Random(seed)
    by_target: dict = {}
    for e in sorted(train, key=lambda e: e["id"]):  # id order: the choice does not depend on file order
        by_target.setdefault(e.get("target"), {}).setdefault(e["label"], []).append(e)
    shots = {}
    for target, pools in sorted(by_target.items(), key=lambda kv: str(kv[0])):
        order = [lab for lab in labels if lab in pools]
        rng.shuffle(order)
        pools = {lab: rng.sample(pools[lab], len(pools[lab])) for lab in order}
        chosen = []
        while len(chosen) < k and any(pools.values()):
            for lab in order:
                if pools[lab] and len(chosen) < k:
                    chosen.append(pools[lab].pop())
        rng.shuffle(chosen)  # no fixed label order for the model to copy
        shots[target] = chosen
    return shots


def _pattern(label: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])", re.I)


def parse(answer: str | None, labels) -> str | None:
    """The one task label the answer names as a word (case-insensitive), else None: no label, or two different
    labels, is unparseable -- never mapped to a label by guesswork."""
    if not answer:
        return None
    text = THINK.sub(" ", answer)
    found = {lab for lab in labels if _pattern(lab).search(text)}
    return found.pop() if len(found) == 1 else None


def logprob_scores(content: list[dict] | None, answer: str, label: str, labels) -> list[float] | None:
    """Probabilities over labels from the top log-probabilities of the token where the parsed label starts: each
    label gets the mass of the alternatives that begin it and no other label; None when the server sent none."""
    if not content or not answer:
        return None
    starts = [m.start() for m in _pattern(label).finditer(answer)]
    if not starts:
        return None
    pos, offset = starts[-1], 0  # the answer proper follows any reasoning, so its label is the last mention
    for tok in content:
        offset += len(tok.get("token", ""))
        if offset > pos:
            break
    else:
        return None
    mass = [0.0] * len(labels)
    for alt in tok.get("top_logprobs") or [tok]:
        piece = alt.get("token", "").lstrip(" \t\n\"'{:").lower()
        hits = [i for i, lab in enumerate(labels) if piece and lab.lower().startswith(piece)]
        if len(hits) == 1:
            mass[hits[0]] += math.exp(alt.get("logprob", -math.inf))
    total = sum(mass)
    return [m / total for m in mass] if total > 0 else None
