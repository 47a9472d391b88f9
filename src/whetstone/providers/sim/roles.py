"""What each simulated role answers: the task model, the judge, the mutator."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

from whetstone.providers.sim.rules import CONFLICTS, FILLER, RULES, infer_rules, satisfied
from whetstone.providers.sim.text import PromptText, example_block


def seeded(*parts: Any) -> random.Random:
    """An RNG that depends only on what is asked, never on call order."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def needed_rules(expected: str, sim: Mapping[str, Any] | None) -> list[str]:
    if sim and sim.get("rules") is not None:
        return [r for r in sim["rules"] if r in RULES]
    return infer_rules(expected)


def missing_rules(prompt: str, expected: str, sim: Mapping[str, Any] | None) -> list[str]:
    needs = needed_rules(expected, sim)
    have = satisfied(needs, prompt)
    return [r for r in needs if r not in have]


def _bend(rule_id: str, answer: str) -> str:
    """Break one rule in an answer; rules about the value leave an 'Answer: ' label alone."""
    violate = RULES[rule_id].violate
    if rule_id != "answer_prefix" and answer.startswith("Answer: "):
        return "Answer: " + violate(answer.removeprefix("Answer: "))
    return violate(answer)


def task_answer(hints: Mapping[str, Any]) -> str:
    prompt, expected = str(hints["prompt"]), str(hints["expected"])
    sim = hints.get("sim")
    needs = needed_rules(expected, sim)
    answer = expected
    for rule_id, (other, apply) in CONFLICTS.items():
        if rule_id not in needs and other in needs and RULES[rule_id].asked_by(prompt):
            answer = apply(answer)
    for rule_id in missing_rules(prompt, expected, sim):
        answer = _bend(rule_id, answer)
    noise = float((sim or {}).get("noise", 0.0))
    if noise and seeded(hints.get("seed"), "noise", prompt, expected).random() < noise:
        answer = "I am not sure."
    return answer


def judge_verdict(hints: Mapping[str, Any]) -> str:
    """A G-Eval style verdict, as JSON text: ``{"score": 0-10, "reason": …}``."""
    prompt, expected, output = str(hints["prompt"]), str(hints["expected"]), str(hints["output"])
    if output == expected:
        return json.dumps({"score": 10, "reason": "The answer is correct and well formed."})
    sim = hints.get("sim")
    missing = missing_rules(prompt, expected, sim)
    needs = needed_rules(expected, sim)
    if not missing:
        return json.dumps({"score": 2, "reason": "The answer is wrong."})
    score = round(8 * (1 - len(missing) / max(1, len(needs))))
    reason = " ".join(RULES[r].missing for r in missing)
    return json.dumps({"score": score, "reason": reason})


def _random_rule_instruction(rng: random.Random, miss_rate: float) -> str:
    if rng.random() < miss_rate:
        return rng.choice(FILLER)
    rule = RULES[rng.choice(sorted(RULES))]
    return rng.choice(rule.instructions)


def _reflective(hints: Mapping[str, Any], rng: random.Random) -> str:
    parent = str(hints["parents"][0])
    text = PromptText.parse(parent)
    counts: Counter[str] = Counter()
    for failure in hints.get("failures", []):
        counts.update(missing_rules(parent, str(failure["expected"]), failure.get("sim")))
    ranked = sorted(counts, key=lambda r: (-counts[r], rng.random()))
    strength, miss = float(hints.get("strength", 0.5)), float(hints.get("missRate", 0.2))
    wanted = ranked[: 2 if rng.random() < strength else 1]
    if not wanted:
        wanted = []
        text.add(_random_rule_instruction(rng, miss))
    for rule_id in wanted:
        if rng.random() < miss:  # misreads the feedback
            text.add(_random_rule_instruction(rng, 1.0 if rng.random() < 0.5 else 0.0))
        else:
            text.add(rng.choice(RULES[rule_id].instructions))
    return text.render()


def _history(hints: Mapping[str, Any], rng: random.Random) -> str:
    history = sorted(hints["history"], key=lambda h: h["score"])
    best = PromptText.parse(str(history[-1]["prompt"]))
    for entry in history[-3:-1]:
        for line in PromptText.parse(str(entry["prompt"])).instructions:
            best.add(line)
    if rng.random() < 0.5:
        best.add(_random_rule_instruction(rng, float(hints.get("missRate", 0.2))))
    return best.render()


def _rephrase(hints: Mapping[str, Any], rng: random.Random) -> str:
    text = PromptText.parse(str(hints["parents"][0]))
    strength = float(hints.get("strength", 0.5))
    kept = []
    for line in text.instructions:
        roll = rng.random()
        if roll < strength * 0.2:
            continue
        rule = next((r for r in RULES.values() if line in r.instructions), None)
        if rule is not None and roll < strength * 0.6:
            line = rng.choice(rule.instructions)
        kept.append(line)
    text.instructions = list(dict.fromkeys(kept))
    if rng.random() < 0.3 + strength * 0.5:
        text.add(_random_rule_instruction(rng, 0.3))
    return text.render()


def _fewshot(hints: Mapping[str, Any], rng: random.Random) -> str:
    text = PromptText.parse(str(hints["parents"][0]))
    pool = [example_block(str(e["input"]), str(e["output"])) for e in hints.get("examples", [])]
    fresh = [b for b in pool if b not in text.examples]
    move = rng.choice(("add", "swap", "drop")) if text.examples else "add"
    if move == "drop" and len(text.examples) > 1:
        text.examples.pop(rng.randrange(len(text.examples)))
    elif move == "swap" and fresh:
        text.examples[rng.randrange(len(text.examples))] = rng.choice(fresh)
    elif fresh:
        count = 1 + round(float(hints.get("strength", 0.5)) * 2)
        text.examples.extend(rng.sample(fresh, min(count, len(fresh))))
    return text.render()


def _crossover(hints: Mapping[str, Any], rng: random.Random) -> str:
    first, second = (PromptText.parse(str(p)) for p in hints["parents"][:2])
    for line in second.instructions:
        first.add(line)
    for block in second.examples:
        if block not in first.examples:
            first.examples.append(block)
    return first.render()


def _compress(hints: Mapping[str, Any], rng: random.Random) -> str:
    text = PromptText.parse(str(hints["parents"][0]))
    seen: set[str] = set()
    kept = []
    for line in text.instructions:
        rule = next((r.id for r in RULES.values() if r.asked_by(line)), None)
        if line in FILLER or (rule is not None and rule in seen):
            continue
        if rule is not None:
            seen.add(rule)
        kept.append(line)
    if kept and rng.random() < float(hints.get("missRate", 0.2)):
        kept.pop(rng.randrange(len(kept)))
    text.instructions = kept
    text.examples = text.examples[:1]
    return text.render()


_MUTATORS = {
    "reflective": _reflective,
    "history": _history,
    "rephrase": _rephrase,
    "fewshot": _fewshot,
    "crossover": _crossover,
    "compress": _compress,
}


def mutation(hints: Mapping[str, Any]) -> str:
    """A new prompt in the same ``<prompt>`` envelope real models are asked for."""
    strategy = str(hints["strategy"])
    rng = seeded(hints.get("seed"), "mutation", strategy, hints.get("nonce"), hints["parents"])
    return f"<prompt>\n{_MUTATORS[strategy](hints, rng)}\n</prompt>"
