"""A small helper to build WHERE clauses with numbered asyncpg parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Conditions:
    """Conditions joined with AND; each fragment uses `{}` where its parameter goes."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, fragment: str, *values: Any) -> Conditions:
        placeholders = []
        for value in values:
            self.params.append(value)
            placeholders.append(f"${len(self.params)}")
        self.parts.append(fragment.format(*placeholders))
        return self

    def param(self, value: Any) -> str:
        """A placeholder for a value used outside the WHERE clause (LIMIT, OFFSET)."""
        self.params.append(value)
        return f"${len(self.params)}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "TRUE"
