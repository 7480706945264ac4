"""LITE-SNN sentiment classifier (method 5) and its RNN/LSTM/GRU baselines.

SNN, for token ids ``(B, L)`` with lengths ``n_b`` (right-padded with 0)::

    e = Embedding(ids)                    (B, L, 100)   trained from scratch
    I1 = Linear(100->256)(e), each token held for S = steps_per_token steps: (B, T = L S, 256)
    s1 = LIF(I1); s2 = LIF(Linear(256->256)(s1)); v = LI(Linear(256->256)(s2))   (B, T, 256)
    logit = head( mean_{t < n_b S} v[b, t] )  (B,)    head = Linear(256->1); loss BCE

LIF (per layer trainable threshold theta, init 1.0, and leak lambda, init 0.95, used clamped to
[0, 1]), one step :func:`lif_step`::

    u' = lambda u + I;   s = H(u' / theta - 1);   u = u' - theta s (soft reset) | u' (1 - s) (hard)

with ``H(x) = 1`` for ``x > 0`` (a neuron fires when ``u'`` exceeds ``theta``) and the linear
surrogate dH/dx = alpha max(0, 1 - |x|) (alpha 0.3). The output layer is a
non-spiking leaky integrator ``v = lambda v + I`` (:func:`integrator_step`, trainable leak).
All layers are causal and the mean runs over valid steps only, so padding never changes a
sample's output. Baselines: ``nn.RNN`` (tanh), ``nn.LSTM``, ``nn.GRU``, one layer, hidden 256,
same embedding; the hidden state after the last valid token goes to the same head.
"""

from __future__ import annotations

import torch
from torch import nn

from lava_thesis import training
from lava_thesis.energy import AC_PJ, MAC_PJ, gru_macs, lstm_macs, rnn_macs
from lava_thesis.hybrid.neuron import linear_spike

__all__ = ["LIF", "LeakyIntegrator", "LiteSNN", "RecurrentClassifier", "count_parameters",
           "integrator_step", "lif_step", "recurrent_energy", "snn_energy"]


def lif_step(u: torch.Tensor, current: torch.Tensor, threshold: torch.Tensor | float,
             leak: torch.Tensor | float, *, reset: str = "soft", alpha: float = 0.3
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """One LIF step (see the module docstring); returns ``(u, s)``, shapes of ``current``."""
    lam = torch.clamp(torch.as_tensor(leak, dtype=current.dtype), 0.0, 1.0)
    u = lam * u + current
    s = linear_spike(u / threshold - 1.0, alpha)
    if reset == "soft":
        return u - threshold * s, s
    if reset == "hard":
        return u * (1.0 - s), s
    raise ValueError(f"reset must be 'soft' or 'hard', got {reset!r}")


def integrator_step(v: torch.Tensor, current: torch.Tensor, leak: torch.Tensor | float
                    ) -> torch.Tensor:
    """Non-spiking leaky integrator: ``v = clamp(leak, 0, 1) v + I``."""
    return torch.clamp(torch.as_tensor(leak, dtype=current.dtype), 0.0, 1.0) * v + current


class LIF(nn.Module):
    """A layer of LIF neurons over time: currents ``(B, T, F)`` -> spikes ``(B, T, F)``."""

    def __init__(self, threshold: float = 1.0, leak: float = 0.95, reset: str = "soft",
                 alpha: float = 0.3) -> None:
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(float(threshold)))
        self.leak = nn.Parameter(torch.tensor(float(leak)))
        self.reset, self.alpha = reset, alpha

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        u = torch.zeros_like(currents[:, 0])
        spikes = []
        for current in currents.unbind(1):  # unbind: one backward node, not one per step
            u, s = lif_step(u, current, self.threshold, self.leak, reset=self.reset,
                            alpha=self.alpha)
            spikes.append(s)
        return torch.stack(spikes, 1)


class LeakyIntegrator(nn.Module):
    """Non-spiking output neurons: currents ``(B, T, F)`` -> membrane ``(B, T, F)``."""

    def __init__(self, leak: float = 0.95) -> None:
        super().__init__()
        self.leak = nn.Parameter(torch.tensor(float(leak)))

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        v = torch.zeros_like(currents[:, 0])
        out = []
        for current in currents.unbind(1):
            v = integrator_step(v, current, self.leak)
            out.append(v)
        return torch.stack(out, 1)


class LifTrunk(nn.Module):
    """Three LIF-network layers shared by the LITE classifiers: ``fc1 -> LIF -> fc2 -> LIF ->
    fc3 -> leaky integrator`` (parameter names ``fc1, lif1, fc2, lif2, fc3, out``); the input
    stage (embedding, pixels) and the readout are the subclass's."""

    def __init__(self, in_features: int, hidden: int, threshold: float, leak: float,
                 reset: str) -> None:
        super().__init__()
        self.fc1, self.lif1 = nn.Linear(in_features, hidden), LIF(threshold, leak, reset)
        self.fc2, self.lif2 = nn.Linear(hidden, hidden), LIF(threshold, leak, reset)
        self.fc3, self.out = nn.Linear(hidden, hidden), LeakyIntegrator(leak)

    def layers(self, current: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``fc1``'s output ``(B, T, hidden)`` -> spikes ``s1``, ``s2`` and the integrator's
        membrane ``v``, each ``(B, T, hidden)``."""
        s1 = self.lif1(current)
        s2 = self.lif2(self.fc2(s1))
        return s1, s2, self.out(self.fc3(s2))


class LiteSNN(LifTrunk):
    """The LIF text classifier: ``forward(ids (B, L), lengths (B,)) -> logits (B,)``.

    ``record`` (a list) receives ``[s1, s2, mask]``: both layers' spikes ``(B, T, hidden)`` and
    the valid-step mask ``(B, T)``.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 100, hidden: int = 256,
                 steps_per_token: int = 5, threshold: float = 1.0, leak: float = 0.95,
                 reset: str = "soft") -> None:
        embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)  # drawn first, as
        super().__init__(embed_dim, hidden, threshold, leak, reset)    # in recorded runs
        self.steps_per_token = steps_per_token
        self.embedding = embedding
        self.head = nn.Linear(hidden, 1)

    def trunk(self, ids: torch.Tensor, lengths: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The layers before the pooling: spikes ``s1``, ``s2`` and integrator membrane ``v``
        (each ``(B, T, hidden)``, ``T = L S``) and the valid-step mask ``(B, T)`` (1 for
        ``t < n_b S``). Subclasses with another readout reuse it
        (:mod:`lava_thesis.lite.attention`)."""
        steps = self.steps_per_token
        # fc1 once per token, then held for its S steps
        s1, s2, v = self.layers(self.fc1(self.embedding(ids)).repeat_interleave(steps, dim=1))
        n_valid = lengths.to(v.device) * steps
        mask = (torch.arange(v.shape[1], device=v.device)[None] < n_valid[:, None]).to(v.dtype)
        return s1, s2, v, mask

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                record: list | None = None) -> torch.Tensor:
        s1, s2, v, mask = self.trunk(ids, lengths)
        if record is not None:
            record += [s1, s2, mask]
        feature = (v * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(feature).squeeze(-1)


class RecurrentClassifier(nn.Module):
    """Embedding -> one-layer ``kind`` (``"rnn"``, ``"lstm"``, ``"gru"``) -> last valid hidden
    state -> ``Linear(hidden->1)``: ``forward(ids (B, L), lengths (B,)) -> logits (B,)``."""

    def __init__(self, vocab_size: int, kind: str = "lstm", embed_dim: int = 100,
                 hidden: int = 256) -> None:
        super().__init__()
        cells = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in cells:
            raise ValueError(f"kind must be one of {sorted(cells)}, got {kind!r}")
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = cells[kind](embed_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embedding(ids))
        last = out[torch.arange(len(ids)), lengths.to(out.device) - 1]
        return self.head(last).squeeze(-1)


def count_parameters(model: nn.Module, *, embedding: bool = True) -> int:
    """Trainable parameters; ``embedding=False`` leaves the embedding table out (the trunk)."""
    return training.count_parameters(model, None if embedding else model.embedding)


def recurrent_energy(model: RecurrentClassifier, lengths: torch.Tensor) -> dict[str, float]:
    """Mean compute energy per inference (pJ) over samples of ``lengths`` tokens.

    ``E = MAC_PJ * (macs(input, hidden) * mean(n) + hidden)``: the recurrent layer at every token
    (:func:`~lava_thesis.energy.lstm_macs`, :func:`~lava_thesis.energy.gru_macs`,
    :func:`rnn_macs`) plus the head once; the embedding lookup is not counted.
    """
    per_token = {"rnn": rnn_macs, "lstm": lstm_macs, "gru": gru_macs}[model.kind](
        model.rnn.input_size, model.rnn.hidden_size, 1)
    macs = per_token * float(lengths.double().mean()) + model.head.in_features
    return {"macs": macs, "synops": 0.0, "energy_pj": MAC_PJ * macs}


@torch.no_grad()
def snn_energy(model: LiteSNN, ids: torch.Tensor, lengths: torch.Tensor,
               batch_size: int = 256) -> dict[str, float]:
    """Mean compute energy per inference (pJ) of the SNN on ``ids``, from measured spikes.

    Per sample with ``T = n S`` valid steps: ``fc1`` gets analog embeddings, so it does its
    ``100 x 256`` MACs every step; ``fc2``/``fc3`` do SynOps = input spikes x fan-out (256)
    at ``AC_PJ``; the head does 256 MACs once; the embedding lookup is not counted::

        E = MAC_PJ (E_in H T + H) + AC_PJ H (sum s1 + sum s2)

    Also returns each LIF layer's spike rate (spikes per neuron per valid step) and
    ``energy_pj_fc1_per_token``: the same with ``fc1`` computed once per token (its input is
    constant for S steps), a cheaper implementation than the convention above.
    """
    model.eval()
    fc1, hidden = model.fc1, model.fc1.out_features
    spikes = torch.zeros(2, dtype=torch.float64, device=ids.device)
    for start in range(0, len(ids), batch_size):
        n = lengths[start:start + batch_size]
        record: list = []
        model(ids[start:start + batch_size, :int(n.max())], n, record)
        s1, s2, mask = record
        spikes += torch.stack([(s * mask[..., None]).sum().double() for s in (s1, s2)])
    n_inf, steps = len(ids), float(lengths.double().sum()) * model.steps_per_token
    spikes = spikes.cpu()  # the one read back from the device
    synops = float(spikes.sum()) * hidden / n_inf
    macs = (fc1.in_features * hidden * steps) / n_inf + model.head.in_features
    rates = spikes / (steps * hidden)
    fc1_saved = fc1.in_features * hidden * steps * (1 - 1 / model.steps_per_token) / n_inf
    return {"macs": macs, "synops": synops, "energy_pj": MAC_PJ * macs + AC_PJ * synops,
            "energy_pj_fc1_per_token": MAC_PJ * (macs - fc1_saved) + AC_PJ * synops,
            "spike_rate_lif1": float(rates[0]), "spike_rate_lif2": float(rates[1]),
            "time_steps": steps / n_inf}
