"""How the simulated mutator reads and edits a prompt: instruction lines, worked examples,
and the tail from the first ``{variable}`` on, which it never touches."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VARIABLE = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*\}(?!\})")


@dataclass
class PromptText:
    instructions: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # each "Example:\nInput: …\nOutput: …"
    tail: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> PromptText:
        lines = text.split("\n")
        first_var = next((i for i, line in enumerate(lines) if _VARIABLE.search(line)), len(lines))
        head, tail = lines[:first_var], lines[first_var:]
        parsed = cls(tail=tail)
        block: list[str] | None = None
        for line in head:
            if line.startswith("Example:"):
                block = [line]
                parsed.examples.append("")
            elif block is not None and line.strip():
                block.append(line)
            else:
                if block is not None:
                    parsed.examples[-1] = "\n".join(block)
                    block = None
                if line.strip():
                    parsed.instructions.append(line.strip())
        if block is not None:
            parsed.examples[-1] = "\n".join(block)
        return parsed

    def render(self) -> str:
        parts = []
        if self.instructions:
            parts.append("\n".join(self.instructions))
        parts.extend(self.examples)
        body = "\n\n".join(parts)
        tail = "\n".join(self.tail)
        if body and tail:
            return f"{body}\n\n{tail}"
        return body or tail

    def add(self, instruction: str) -> None:
        if instruction not in self.instructions:
            self.instructions.append(instruction)


def example_block(input_text: str, output: str) -> str:
    return f"Example:\nInput: {input_text}\nOutput: {output}"
