"""Rules beside the model: safe boolean expressions that turn scores into decisions."""

from __future__ import annotations

__all__: list[str] = []
