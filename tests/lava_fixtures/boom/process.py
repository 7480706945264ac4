"""``Boom``: a Process whose ProcessModel raises at a chosen time step."""

from __future__ import annotations

from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess


class Boom(AbstractProcess):
    """Sends zeros on ``s_out`` (shape ``(1,)``) and raises at time step ``fail_at``.

    A ``fail_at`` < 1 never raises.
    """

    def __init__(self, *, fail_at: int, **kwargs) -> None:
        super().__init__(fail_at=fail_at, **kwargs)
        self.s_out = OutPort(shape=(1,))
