"""Lava Processes and ProcessModels of lava-thesis, importable as ``lava_thesis.processes``.

One folder per Process: ``process.py`` (ports, vars, the equation) and ``models.py``
(floating_pt / fixed_pt ProcessModels). Lava's compiler imports every module beside a Process,
so nothing in these folders may have import-time side effects.
"""
