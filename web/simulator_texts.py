"""Texts of the simulator's channels, buttons, counter and reset: Indonesian first."""

from __future__ import annotations

SIMULATOR_TEXTS: dict[str, dict[str, str]] = {}
