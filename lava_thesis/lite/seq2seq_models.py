"""LITE-SNN sequence-to-sequence models (method 5): a convolutional encoder-decoder
with dot-product attention, spiking (LIF) or ReLU, and an LSTM encoder-decoder baseline.

Conv model, source ids ``(B, Ls)`` (lengths ``n_b``) and decoder input ``(B, Lt)`` =
``<bos> y_1 .. y_{Lt-1}`` (right-padded with 0)::

    x = Emb_src(src) + Pos(j), zero at padding          (B, Ls, E)
    h_1 = act(Conv_k(x)) ; h_l = act(Conv_k(h_{l-1}))    (B, S, C, Ls)   'same' padding k // 2
    K = mean_S h_L                                       (B, Ls, C)      keys = values
    g_1 = act(CausalConv_k(Emb_tgt(y) + Pos(i)))         (B, S, C, Lt)   left padding k - 1
    g_l = act(CausalConv_k(g_{l-1}))  for 1 < l < L'
    q = W_q mean_S g_{L'-1} ; a = softmax_j(q K^T / sqrt(C)) (padding masked) ; c = a K
    g_L' = act(CausalConv_k(g_{L'-1}) + W_c c)
    logits = W_out mean_S g_L'                           (B, Lt, V_tgt)

``activation="relu"``: ``S = 1`` and ``act = ReLU``. ``activation="lif"``: every token position
``i`` is run for ``S = steps`` steps of LIF dynamics; its input current ``I_l[i, s]`` is the
conv of the previous layer's *spikes at step s* (the first layer's analog current is held for
the S steps, as the sentiment SNN holds each word), and
:func:`~lava_thesis.lite.sentiment.lif_step` (through the ``LIF`` module; trainable per-layer
threshold ``theta`` and leak ``lambda``, linear surrogate) gives::

    u[i, s] = lambda u[i, s-1] + I[i, s] ;  o[i, s] = H(u[i, s] / theta - 1) ;
    u[i, s] = u[i, s] - theta o[i, s]

``memory`` says what ``u[i, -1]``, the membrane a position starts from, is:

- ``"carry"`` (the thesis's recurrence): ``u[i, -1] = u[i-1, S-1]``, the membrane carries over
  from one token position to the next, so each layer is one LIF sequence of ``L S`` steps
  (position-major) that remembers the positions before. It runs left to right, so the decoder
  stays causal: at generation time position ``i`` sees positions ``<= i`` only.
- ``"position"``: ``u[i, -1] = 0``, no state across positions (the ablation); the sequence
  axis is then handled by the (causal) convolutions and the attention alone, and the S steps
  cost one batched conv (``B S`` rows) plus S element-wise updates per layer.

Spikes are binary; the readouts (keys, query, output) use spike rates
``mean_S o`` in ``{0, 1/S, ..}``, so a linear map of them is spike-driven (accumulates).

LSTM model: ``Emb_src -> LSTM(E->H)`` (packed; its final state starts the decoder),
``Emb_tgt -> LSTM(E->H)`` = ``d_i``, the same dot attention ``c_i``, ``o_i = tanh(W_c [d_i; c_i])``,
``logits = W_out o_i``.

Both models: ``encode(src, lengths) -> memory``; ``decode(memory, tgt_in, last=False) -> logits``
(``last=True``: only the last position's, for greedy decoding);
``forward(src, lengths, tgt_in) = decode(encode(..), tgt_in)``.

Example:
    >>> import torch
    >>> m = ConvSeq2Seq(20, 30, embed_dim=8, channels=16, steps=2)
    >>> m(torch.tensor([[4, 5, 6]]), torch.tensor([3]), torch.tensor([[2, 7]])).shape
    torch.Size([1, 2, 30])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lava_thesis import training
from lava_thesis.energy import AC_PJ, MAC_PJ, conv_fanout, lstm_macs
from lava_thesis.lite.attention import masked_softmax
from lava_thesis.lite.sentiment import LIF

__all__ = ["ConvSeq2Seq", "LstmSeq2Seq", "conv_energy", "lstm_energy", "seq2seq_parameters"]

Memory = tuple[torch.Tensor, ...]


def _check_lengths(src: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    if src.ndim != 2 or len(lengths) != len(src):
        raise ValueError(f"src must be (B, L) with B lengths, got {tuple(src.shape)}, "
                         f"{tuple(lengths.shape)}")
    if len(lengths) and int(lengths.min()) < 1:
        raise ValueError(f"empty source sentence (length 0) at index "
                         f"{int((lengths < 1).nonzero()[0, 0])}")
    return torch.arange(src.shape[1], device=src.device)[None] < lengths.to(src.device)[:, None]


def _attend(query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``softmax(q K^T / sqrt(C)) K`` over the valid source positions: (B, Lt, C)."""
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    return masked_softmax(scores, mask[:, None, :], dim=-1) @ keys


class ConvSeq2Seq(nn.Module):
    """Conv encoder-decoder with attention; ``activation`` ``"lif"`` (spiking) or ``"relu"``;
    ``memory`` ``"carry"`` or ``"position"`` (LIF only; see the module docstring).

    ``record`` (a dict) passed to :meth:`encode`/:meth:`decode` receives ``"enc"`` and ``"dec"``:
    lists of every layer's output ``(B, S, C, L)`` (binary spikes for ``"lif"``).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, *, embed_dim: int = 128,
                 channels: int = 256, enc_layers: int = 2, dec_layers: int = 2, kernel: int = 3,
                 activation: str = "lif", steps: int = 4, max_positions: int = 128,
                 threshold: float = 1.0, leak: float = 0.95, memory: str = "position") -> None:
        super().__init__()
        if activation not in ("lif", "relu") or enc_layers < 1 or dec_layers < 2 or kernel % 2 == 0:
            raise ValueError(f"need activation 'lif'|'relu', enc_layers >= 1, dec_layers >= 2, odd "
                             f"kernel; got {activation!r}, {enc_layers}, {dec_layers}, {kernel}")
        if memory not in ("carry", "position"):
            raise ValueError(f"memory must be 'carry' or 'position', got {memory!r}")
        self.activation, self.kernel, self.memory = activation, kernel, memory
        self.steps = steps if activation == "lif" else 1
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=0)
        self.src_pos = nn.Embedding(max_positions, embed_dim)
        self.tgt_pos = nn.Embedding(max_positions, embed_dim)

        def convs(n: int, pad: int) -> nn.ModuleList:
            return nn.ModuleList(nn.Conv1d(embed_dim if i == 0 else channels, channels, kernel,
                                           padding=pad) for i in range(n))

        self.enc_convs, self.dec_convs = convs(enc_layers, kernel // 2), convs(dec_layers, 0)
        self.query = nn.Linear(channels, channels)
        self.context = nn.Linear(channels, channels)
        self.out = nn.Linear(channels, tgt_vocab)
        n_lif = enc_layers + dec_layers if activation == "lif" else 0
        self.lifs = nn.ModuleList(LIF(threshold, leak) for _ in range(n_lif))

    def _act(self, current: torch.Tensor, layer: int) -> torch.Tensor:
        """Currents ``(B, S, C, L)`` -> activations of the same shape."""
        if self.activation == "relu":
            return torch.relu(current)
        if self.memory == "position":  # S steps per position, all positions at once
            return self.lifs[layer](current)
        b, s, c, n = current.shape  # one sequence of L S steps, position-major
        spikes = self.lifs[layer](current.permute(0, 3, 1, 2).reshape(b, n * s, c))
        return spikes.view(b, n, s, c).permute(0, 2, 3, 1)

    def _conv(self, conv: nn.Conv1d, h: torch.Tensor, causal: bool) -> torch.Tensor:
        """Conv of each step's activations: ``(B, S, C, L)`` -> ``(B, S, C', L)``."""
        flat = h.flatten(0, 1)
        out = conv(F.pad(flat, (self.kernel - 1, 0)) if causal else flat)
        return out.view(*h.shape[:2], *out.shape[1:])

    def _positions(self, ids: torch.Tensor, pos: nn.Embedding) -> torch.Tensor:
        if ids.shape[1] > pos.num_embeddings:
            raise ValueError(f"sequence length {ids.shape[1]} > max_positions "
                             f"{pos.num_embeddings}")
        return pos(torch.arange(ids.shape[1], device=ids.device))[None]

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, record: dict | None = None
               ) -> Memory:
        """``(keys (B, Ls, C), mask (B, Ls))``; ValueError for an empty source sentence."""
        mask = _check_lengths(src, lengths)
        x = (self.src_embed(src) + self._positions(src, self.src_pos)) * mask[..., None]
        m4 = mask[:, None, None, :].to(x.dtype)
        h, layers = x.transpose(1, 2)[:, None], []  # analog input: its current is held S steps
        for i, conv in enumerate(self.enc_convs):
            current = self._conv(conv, h, causal=False) * m4
            # masked again: a carried membrane could fire past the sentence's end
            h = self._act(current.expand(-1, self.steps, -1, -1), i) * m4
            layers.append(h)
        if record is not None:
            record["enc"] = layers
        return h.mean(1).transpose(1, 2), mask

    def decode(self, memory: Memory, tgt_in: torch.Tensor, record: dict | None = None, *,
               last: bool = False) -> torch.Tensor:
        """Logits ``(B, Lt, V_tgt)`` (``last``: of the last position only, ``(B, 1, V_tgt)``);
        position ``i`` sees ``tgt_in[:, :i + 1]`` only."""
        keys, mask = memory
        y = (self.tgt_embed(tgt_in) + self._positions(tgt_in, self.tgt_pos)).transpose(1, 2)
        first = len(self.enc_convs)
        current = self._conv(self.dec_convs[0], y[:, None], causal=True)
        h = self._act(current.expand(-1, self.steps, -1, -1), first)
        layers = [h]
        for i, conv in enumerate(self.dec_convs[1:], 1):
            current = self._conv(conv, h, causal=True)
            if i == len(self.dec_convs) - 1:
                ctx = _attend(self.query(h.mean(1).transpose(1, 2)), keys, mask)
                current = current + self.context(ctx).transpose(1, 2)[:, None]
            h = self._act(current, first + i)
            layers.append(h)
        if record is not None:
            record["dec"] = layers
        return self.out(h[..., -1:].mean(1).transpose(1, 2) if last else
                        h.mean(1).transpose(1, 2))

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tgt_in: torch.Tensor
                ) -> torch.Tensor:
        return self.decode(self.encode(src, lengths), tgt_in)


class LstmSeq2Seq(nn.Module):
    """LSTM encoder-decoder with dot attention (see the module docstring)."""

    #: batch dimension of each entry of :meth:`encode`'s memory ``(outputs, mask, h_n, c_n)``
    #: (``h_n``, ``c_n`` are ``(layers, B, H)``): beam search repeats each along it
    memory_batch_dims = (0, 0, 1, 1)

    def __init__(self, src_vocab: int, tgt_vocab: int, *, embed_dim: int = 128,
                 hidden: int = 256) -> None:
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=0)
        self.encoder = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.decoder = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.combine = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, tgt_vocab)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> Memory:
        """``(outputs (B, Ls, H), mask (B, Ls), h_n, c_n)``."""
        mask = _check_lengths(src, lengths)
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths.cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, (h, c) = self.encoder(packed)
        out = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                               total_length=src.shape[1])[0]
        return out, mask, h, c

    def decode(self, memory: Memory, tgt_in: torch.Tensor, *, last: bool = False
               ) -> torch.Tensor:
        """Logits ``(B, Lt, V_tgt)`` (``last``: of the last position only)."""
        keys, mask, h, c = memory
        d, _ = self.decoder(self.tgt_embed(tgt_in), (h, c))
        d = d[:, -1:] if last else d
        ctx = _attend(d, keys, mask)
        return self.out(torch.tanh(self.combine(torch.cat([d, ctx], -1))))

    def forward(self, src: torch.Tensor, lengths: torch.Tensor, tgt_in: torch.Tensor
                ) -> torch.Tensor:
        return self.decode(self.encode(src, lengths), tgt_in)


def seq2seq_parameters(model: ConvSeq2Seq | LstmSeq2Seq) -> dict[str, int]:
    """``params`` (all trainable) and ``params_trunk`` (without the embedding tables, position
    embeddings and the output layer ``W_out``, which scale with the vocabularies)."""
    skip = [model.src_embed, model.tgt_embed, model.out] + (
        [model.src_pos, model.tgt_pos] if isinstance(model, ConvSeq2Seq) else [])
    return {"params": training.count_parameters(model),
            "params_trunk": training.count_parameters(model, nn.ModuleList(skip))}


def _attention_macs(n_src: int, n_tgt: int, dim: int) -> int:
    return 2 * n_src * n_tgt * dim  # q K^T and a K


def lstm_energy(model: LstmSeq2Seq, n_src: int, n_tgt: int) -> dict[str, float]:
    """MACs and energy (pJ) of one sentence: ``n_src`` source tokens, ``n_tgt`` decoder
    positions (all MACs, embedding lookups not counted)::

        lstm(E, H, n_src) + lstm(E, H, n_tgt) + 2 n_src n_tgt H + n_tgt (2H H + H V)
    """
    e, hid, v = model.encoder.input_size, model.encoder.hidden_size, model.out.out_features
    macs = (lstm_macs(e, hid, n_src) + lstm_macs(e, hid, n_tgt)
            + _attention_macs(n_src, n_tgt, hid) + n_tgt * (2 * hid * hid + hid * v))
    return {"macs": float(macs), "synops": 0.0, "energy_pj": MAC_PJ * macs}


def _fanout(out_channels: int, kernel: int, length: int, causal: bool) -> torch.Tensor:
    """Synapses driven by one input spike at each position ``(L,)`` (border-exact)."""
    if causal:
        return torch.from_numpy(conv_fanout(out_channels, (1, kernel), (1, length + kernel - 1))
                                [0, kernel - 1:].copy())
    return torch.from_numpy(conv_fanout(out_channels, (1, kernel), (1, length),
                                        padding=(0, kernel // 2))[0].copy())


@torch.no_grad()
def conv_energy(model: ConvSeq2Seq, src: torch.Tensor, tgt_in: torch.Tensor
                ) -> dict[str, float]:
    """Compute of one sentence, unpadded ``src (Ls,)`` and decoder input ``tgt_in (Lt,)``.

    ReLU: every layer MACs (``C_in`` x the exact fan-out of each position: ``C_out k`` per
    position, less the taps on zero padding), ``W_q``, ``W_c``, ``W_out`` and the attention.
    LIF: MACs where an operand is analog -- the first encoder and decoder conv (embedding input,
    computed once per position: the current is held for the S steps), the attention products
    (rates x rates) and ``W_c`` (analog context); SynOps (``AC_PJ``) where the input is spikes --
    the other convs (spikes x exact fan-out), ``W_q`` and ``W_out`` (spikes x C, spikes x V;
    they read rates, i.e. ``1/S`` times the summed spikes of the S steps). Per-position work of
    an incremental decoder is counted (each output position once); neuron updates, softmax,
    embedding lookups and memory traffic are not.
    """
    model.eval()
    rec: dict = {}
    model.decode(model.encode(src[None], torch.tensor([len(src)]), rec), tgt_in[None], rec)
    ls, lt, k = len(src), len(tgt_in), model.kernel
    c, e, v = model.query.in_features, model.src_embed.embedding_dim, model.out.out_features
    macs = (e * float(_fanout(c, k, ls, False).sum() + _fanout(c, k, lt, True).sum())  # conv_0s
            + _attention_macs(ls, lt, c) + lt * c * c)  # attention, W_c
    synops, rates = 0.0, {}
    for part, layers, n in (("enc", rec["enc"], ls), ("dec", rec["dec"], lt)):
        for i, h in enumerate(layers):
            rates[f"spike_rate_{part}{i + 1}"] = float(h.mean())
            fan_next = (_fanout(c, k, n, part == "dec") if i + 1 < len(layers) else None)
            if part == "dec" and i == len(layers) - 2:
                fan_next = fan_next + c  # g_{L'-1} also drives W_q
            if part == "dec" and i == len(layers) - 1:
                fan_next = torch.full((n,), v)  # the last decoder layer drives W_out
            if fan_next is None:  # encoder top: keys, used by the attention MACs above
                continue
            if model.activation == "relu":
                macs += float(fan_next.sum()) * c
            else:
                synops += float((h[0].sum((0, 1)).double() * fan_next).sum())
    if model.activation == "relu":
        rates = {}
    return {"macs": float(macs), "synops": synops,
            "energy_pj": MAC_PJ * macs + AC_PJ * synops, **rates}
