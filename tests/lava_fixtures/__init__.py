"""Lava Processes used by the tests. Only side-effect-free modules belong here: Lava's compiler
imports every module beside a Process's module while it looks for ProcessModels."""
