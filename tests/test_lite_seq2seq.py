"""LITE seq2seq: shapes, causal decoder, spikes and gradients, greedy and beam-search decoding
(beam search by hand on a fixed Markov "model"), BLEU, energy counts by hand, best-epoch
selection on validation, the CPU-budget option, and a tiny two-seed end-to-end run on real
Multi30k pairs."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import assert_results_written

from lava_thesis.energy import AC_PJ, MAC_PJ
from lava_thesis.experiments.lite_seq2seq import LiteSeq2SeqConfig, run, train_epochs
from lava_thesis.lite.seq2seq_decode import (
    beam_decode,
    bleu,
    detokenize,
    greedy_decode,
    repeat_memory,
    translate,
)
from lava_thesis.lite.seq2seq_models import (
    ConvSeq2Seq,
    LstmSeq2Seq,
    conv_energy,
    lstm_energy,
    seq2seq_parameters,
)
from lava_thesis.lite.text import BOS, EOS, Vocab, tokenize
from lava_thesis.protocol import Protocol

SV, TV = 30, 20


def _model(kind: str, **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    if kind == "lstm":
        return LstmSeq2Seq(SV, TV, embed_dim=8, hidden=12)
    kw.setdefault("threshold", 0.3)  # small random currents: a low threshold so neurons fire
    if kind == "lif_carry":
        kind, kw["memory"] = "lif", "carry"
    return ConvSeq2Seq(SV, TV, embed_dim=8, channels=12, activation=kind, steps=3, **kw)


def _batch():
    gen = torch.Generator().manual_seed(1)
    src = torch.randint(4, SV, (3, 6), generator=gen)
    lengths = torch.tensor([6, 4, 1])
    src[1, 4:], src[2, 1:] = 0, 0
    return src, lengths, torch.randint(4, TV, (3, 5), generator=gen)


@pytest.mark.parametrize("kind", ["lif", "lif_carry", "relu", "lstm"])
def test_output_shapes(kind):
    src, lengths, tgt = _batch()
    model = _model(kind)
    memory = model.encode(src, lengths)
    assert memory[0].shape[:2] == (3, 6) and memory[1].tolist()[2] == [True] + [False] * 5
    logits = model.decode(memory, tgt)
    assert logits.shape == model(src, lengths, tgt).shape == (3, 5, TV)
    torch.testing.assert_close(model.decode(memory, tgt, last=True), logits[:, -1:])


@pytest.mark.parametrize("kind", ["lif", "lif_carry", "relu"])
def test_decoder_is_causal_and_source_padding_is_ignored(kind):
    src, lengths, tgt = _batch()
    model = _model(kind).eval()
    ref = model(src, lengths, tgt)
    for t in range(tgt.shape[1] - 1):
        changed = tgt.clone()
        changed[:, t + 1:] = (changed[:, t + 1:] + 3) % TV
        out = model(src, lengths, changed)
        torch.testing.assert_close(out[:, :t + 1], ref[:, :t + 1], rtol=0, atol=0)
        assert not torch.equal(out[:, t + 1:], ref[:, t + 1:])
    alone = model(src[1:2, :4], lengths[1:2], tgt[1:2])  # no padding at all
    torch.testing.assert_close(alone, ref[1:2], rtol=1e-5, atol=1e-6)


def test_membrane_carries_over_positions_only_with_carry():
    """A constant current 0.35 (threshold 1, no leak, S = 2 steps per position): reset at each
    position the membrane reaches 0.7 and never fires; carried over, it reaches 1.05 at the
    second position's first step and fires there, then every 20/7 steps."""
    current = torch.full((1, 2, 1, 5), 0.35)  # (B, S, C, L)
    spikes = {}
    for memory in ("position", "carry"):
        model = ConvSeq2Seq(SV, TV, embed_dim=8, channels=1, steps=2, threshold=1.0, leak=1.0,
                            memory=memory)
        spikes[memory] = model._act(current, 0)[0, :, 0].T  # (L, S)
    assert spikes["position"].sum() == 0
    # u: .35 .7 | 1.05->.05 .4 | .75 1.1->.1 | .45 .8 | 1.15->.15 .5
    assert spikes["carry"].tolist() == [[0, 0], [1, 0], [0, 1], [0, 0], [1, 0]]
    with pytest.raises(ValueError, match="memory must be"):
        ConvSeq2Seq(SV, TV, memory="forever")


def test_carried_membrane_gives_another_network():
    src, lengths, tgt = _batch()
    out = [_model(kind).eval()(src, lengths, tgt) for kind in ("lif", "lif_carry")]
    assert not torch.equal(*out)


@pytest.mark.parametrize("kind", ["lif", "lif_carry"])
def test_lif_activations_are_spikes_and_gradients_reach_weights_and_thresholds(kind):
    src, lengths, tgt = _batch()
    model = _model(kind)
    record: dict = {}
    logits = model.decode(model.encode(src, lengths, record), tgt, record)
    layers = record["enc"] + record["dec"]
    assert len(layers) == 4 and all(h.shape[1:3] == (3, 12) for h in layers)
    for h in layers:
        assert set(h.unique().tolist()) <= {0.0, 1.0} and 0 < h.mean() < 1
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt.flatten()).backward()
    convs = [*model.enc_convs, *model.dec_convs]
    assert all(c.weight.grad is not None and c.weight.grad.abs().sum() > 0 for c in convs)
    assert all(lif.threshold.grad is not None and lif.threshold.grad != 0 for lif in model.lifs)
    assert model.src_embed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ["relu", "lstm"])
def test_greedy_decode_stops_at_eos_and_respects_max_len(kind):
    src, lengths, _ = _batch()
    model = _model(kind)
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.copy_(torch.nn.functional.one_hot(torch.tensor(3), TV) * 10.0)
    assert greedy_decode(model, src, lengths, bos_id=2, eos_id=3, max_len=7) == [[], [], []]
    with torch.no_grad():
        model.out.bias.copy_(torch.nn.functional.one_hot(torch.tensor(9), TV) * 10.0)
    assert greedy_decode(model, src, lengths, bos_id=2, eos_id=3, max_len=7) == [[9] * 7] * 3
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(model, src, lengths, bos_id=2, eos_id=3, max_len=0)


def _decode_batch(n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    src = torch.randint(4, SV, (n, 7), generator=gen)
    lengths = torch.randint(1, 8, (n,), generator=gen)
    for i, length in enumerate(lengths.tolist()):
        src[i, length:] = 0
    return src, lengths


@pytest.mark.parametrize("kind", ["lif", "lif_carry", "relu", "lstm"])
def test_beam_of_width_one_is_greedy(kind):
    """Several ids play <eos> so that some sentences stop early and some run to max_len."""
    src, lengths = _decode_batch()
    model = _model(kind)
    early = 0
    for eos in (3, 5, 6, 8, 14, 18):
        greedy = greedy_decode(model, src, lengths, bos_id=2, eos_id=eos, max_len=9)
        assert beam_decode(model, src, lengths, bos_id=2, eos_id=eos, max_len=9,
                           beam=1) == greedy
        early += sum(len(h) < 9 for h in greedy)
    assert early > 0


@pytest.mark.parametrize("kind", ["lif_carry", "relu", "lstm"])
def test_beam_decodes_each_sentence_of_a_batch_as_alone(kind):
    """The memory is repeated per beam along each entry's own batch dim (LSTM h_n, c_n: dim 1):
    a batch gives each sentence's translation alone; ids are in the vocabulary, no <eos>."""
    src, lengths = _decode_batch(5)
    model = _model(kind)
    batch = beam_decode(model, src, lengths, bos_id=2, eos_id=5, max_len=8, beam=3)
    alone = [beam_decode(model, src[i:i + 1, :int(lengths[i])], lengths[i:i + 1], bos_id=2,
                         eos_id=5, max_len=8, beam=3)[0] for i in range(len(src))]
    assert batch == alone
    assert all(len(h) <= 8 and 5 not in h and all(0 <= t < TV for t in h) for h in batch)


def test_repeat_memory_repeats_each_entry_along_its_batch_dim():
    src, lengths, _ = _batch()
    model = _model("lstm")
    memory = model.encode(src, lengths)
    assert memory[2].shape == (1, 3, 12)  # h_n: (layers, B, H)
    rep = repeat_memory(memory, 2, (0, 0, 1, 1))
    assert isinstance(rep, tuple) and rep[0].shape == (6, 6, 12) and rep[2].shape == (1, 6, 12)
    for entry, orig, dim in zip(rep, memory, (0, 0, 1, 1), strict=True):
        for b in range(3):
            for j in range(2):
                assert torch.equal(entry.select(dim, 2 * b + j), orig.select(dim, b))
    with pytest.raises(ValueError, match="batch dims"):
        repeat_memory(memory, 2, (0, 0))


PAD_, BOS_, EOS_, A, B, C = 0, 2, 3, 4, 5, 6  # the fake model's vocabulary has 7 ids


class _Markov(torch.nn.Module):
    """A fake translation model: ``p(y_t | y_{t-1})`` from a fixed table (rows: the previous
    token), the source's first id selects the table; the logits are ``log p``, so the decoder's
    log-softmax is exactly ``log p``. Unlisted rows put all mass on ``<eos>``."""

    def __init__(self, tables: list[dict[int, dict[int, float]]]) -> None:
        super().__init__()
        probs = torch.zeros(len(tables), 7, 7, dtype=torch.float64)
        probs[:, :, EOS_] = 1.0
        for i, table in enumerate(tables):
            for prev, row in table.items():
                probs[i, prev] = 0.0
                for tok, p in row.items():
                    probs[i, prev, tok] = p
        self.register_buffer("logp", probs.log())

    def encode(self, src, lengths):
        return src[:, 0], lengths

    def decode(self, memory, ys, last=False):
        logits = self.logp[memory[0][:, None], ys]  # (B, L, V)
        return logits[:, -1:] if last else logits


# table 0, a garden path: greedy takes A (.5) whose best continuation is C then <eos> (.5 .4 1
# = .2), while B (.4) then <eos> (.9) has .36
GARDEN = {BOS_: {A: .5, B: .4, EOS_: .1}, A: {C: .4, B: .3, EOS_: .3}, B: {EOS_: .9, C: .1},
          C: {EOS_: 1.0}}
# table 1, an early end: <eos> first (.6, the empty translation) or A (.4) then <eos> (1)
EARLY = {BOS_: {EOS_: .6, A: .4}, A: {EOS_: 1.0}}


def _markov_decode(src_types, beam, length_penalty=1.0, max_len=5):
    src = torch.tensor([[t, 9] for t in src_types])
    return beam_decode(_Markov([GARDEN, EARLY]), src, torch.tensor([2] * len(src)), bos_id=BOS_,
                       eos_id=EOS_, max_len=max_len, beam=beam, length_penalty=length_penalty)


def test_beam_search_by_hand_finds_the_better_sequence_greedy_misses():
    """Beam 2 on GARDEN, score s = sum log p, kept by s / n^alpha (n: tokens incl. <eos>).

    step 1: candidates A .5, B .4, <eos> .1: live A, B (<eos> is not in the top 2).
    step 2: B<eos> .36, AC .2, AB .15, A<eos> .15, BC .04: B<eos> ranks in the top 2 and
      finishes, s = log .36; live AC, AB.
    step 3: AC<eos> .2, AB<eos> .135 (top 2) finish: 3 finished >= 2, the search stops.
    alpha 1: log(.36)/2 = -0.511 > log(.2)/3 = -0.536 > log(.135)/3 = -0.667 -> [B].
    alpha 0: log .36 > log .2 -> [B]. alpha 2: log(.2)/9 = -0.179 > log(.135)/9 = -0.222
      > log(.36)/4 = -0.255 -> [A, C] (the longer hypothesis).
    Greedy (and beam 1): A, C, <eos> -> [A, C].
    """
    src = torch.tensor([[0, 9]])
    model = _Markov([GARDEN])
    assert greedy_decode(model, src, torch.tensor([2]), bos_id=BOS_, eos_id=EOS_,
                         max_len=5) == [[A, C]]
    assert _markov_decode([0], beam=1) == [[A, C]]
    assert _markov_decode([0], beam=2) == [[B]]
    assert _markov_decode([0], beam=2, length_penalty=0.0) == [[B]]
    assert _markov_decode([0], beam=2, length_penalty=2.0) == [[A, C]]
    assert _markov_decode([0], beam=3) == [[B]]
    assert math.log(.36) / 2 > math.log(.2) / 3 and math.log(.2) / 9 > math.log(.36) / 4


def test_beam_search_keeps_hypotheses_that_end_early_and_drops_eos():
    """EARLY, beam 2: step 1 <eos> (.6) finishes at once, the empty translation with
    s = log .6, n = 1; A (.4) lives on (the second live prefix has probability 0), and at step
    2 A<eos> (.4) finishes, n = 2: 2 finished, stop. alpha 1: log(.4)/2 = -0.458 > log .6 =
    -0.511 -> [A]; alpha 0: log .6 > log .4 -> [] (kept although the search went on). Greedy
    and beam 1: []. A batch mixing both tables decodes each sentence as alone."""
    assert _markov_decode([1], beam=1) == [[]]
    assert _markov_decode([1], beam=2) == [[A]]
    assert _markov_decode([1], beam=2, length_penalty=0.0) == [[]]
    assert _markov_decode([0, 1], beam=2) == [[B], [A]]
    assert _markov_decode([1, 0, 1], beam=2, length_penalty=0.0) == [[], [B], []]
    assert _markov_decode([0, 1], beam=1) == [[A, C], []]


def test_beam_search_at_max_len_returns_live_prefixes_without_eos():
    """GARDEN, beam 2: max_len 1, nothing finished -> the best live prefix [A] (as greedy);
    max_len 2: B<eos> finished (log(.36)/2 = -0.511) beats the live AC (log(.2)/2 = -0.805)."""
    assert _markov_decode([0], beam=2, max_len=1) == [[A]]
    assert _markov_decode([0], beam=2, max_len=2) == [[B]]
    assert _markov_decode([0, 1], beam=2, max_len=1) == [[A], []]


def test_beam_below_one_is_rejected():
    src, lengths, _ = _batch()
    model = _model("relu")
    with pytest.raises(ValueError, match="beam must be >= 1"):
        beam_decode(model, src, lengths, bos_id=2, eos_id=3, max_len=5, beam=0)
    with pytest.raises(ValueError, match="max_len"):
        beam_decode(model, src, lengths, bos_id=2, eos_id=3, max_len=0, beam=2)
    words = [f"w{i}" for i in range(SV - 4)]  # + <pad> <unk> <bos> <eos>: SV ids
    vocab = Vocab.build([words], specials=(BOS, EOS))
    sentences = ["w4 w7 w9", "w5"]
    with pytest.raises(ValueError, match="beam must be >= 1"):
        translate(model, sentences, vocab, vocab, max_src_len=5, max_len=4, beam=0)
    with pytest.raises(ValueError, match="beam must be >= 1"):
        run(LiteSeq2SeqConfig(beam=0))
    greedy = translate(model, sentences, vocab, vocab, max_src_len=5, max_len=4)
    assert translate(model, sentences, vocab, vocab, max_src_len=5, max_len=4, beam=1) == greedy
    beamed = translate(model, sentences, vocab, vocab, max_src_len=5, max_len=4, beam=3)
    assert len(beamed) == 2 and all(isinstance(h, str) for h in beamed)


def test_bleu_of_references_against_themselves_is_100(data_root):
    from lava_thesis.data.multi30k import load_multi30k

    refs = [t for _, t in load_multi30k("test", data_dir=data_root)[:200]]
    assert bleu(refs, refs)["bleu"] == pytest.approx(100.0)
    score = bleu(refs, [detokenize(tokenize(r)) for r in refs])  # our tokens, detokenized
    assert score["bleu"] > 99.0 and "lc" in score["signature"] and "13a" in score["signature"]
    assert bleu(refs[:2], ["nothing matches here", "at all"])["bleu"] < 5.0
    assert detokenize(["a", "man", "(", "left", ")", "in", "a", "t", "-", "shirt", "."]) == \
        "a man (left) in a t-shirt."
    with pytest.raises(ValueError, match="hypotheses"):
        bleu(refs[:2], refs[:1])


def test_empty_source_sentence_raises():
    src, lengths, _ = _batch()
    with pytest.raises(ValueError, match="empty source sentence .* index 1"):
        _model("lif").encode(src, torch.tensor([6, 0, 1]))
    vocab = Vocab.build([tokenize("ein hund")], specials=(BOS, EOS))
    with pytest.raises(ValueError, match="sentence 1 has no tokens"):
        translate(_model("relu"), ["ein hund", "  "], vocab, vocab, max_src_len=5, max_len=3)


def test_energy_and_parameters_of_a_tiny_model_by_hand():
    torch.manual_seed(0)
    e, c, k, v, ls, lt, s = 2, 3, 3, 5, 4, 3, 2
    src, tgt = torch.tensor([3, 4, 5, 6]), torch.tensor([2, 3, 4])
    # fan-out sums over positions, per output channel: 'same' conv over 4 positions uses
    # 2+3+3+2 = 10 taps; causal conv over 3 positions 3+2+1 = 6
    conv0 = e * c * (10 + 6)                          # first encoder + decoder conv (analog)
    attn, w_c = 2 * ls * lt * c, lt * c * c           # q K^T, a K, W_c
    enc1, dec1, w_q, out = c * c * 10, c * c * 6, lt * c * c, lt * c * v
    models = {}
    for act in ("relu", "lif"):
        models[act] = m = ConvSeq2Seq(10, v, embed_dim=e, channels=c, activation=act, steps=s)
        with torch.no_grad():  # huge biases: every LIF neuron fires at every step
            for conv in [*m.enc_convs, *m.dec_convs, m.context]:
                conv.bias.fill_(100.0)
    relu = conv_energy(models["relu"], src, tgt)
    assert relu["macs"] == conv0 + attn + w_c + enc1 + dec1 + w_q + out == 411
    assert relu["synops"] == 0 and relu["energy_pj"] == pytest.approx(MAC_PJ * 411)
    lif = conv_energy(models["lif"], src, tgt)
    synops = s * (enc1 + dec1 + w_q + out)            # every spike x its fan-out, S steps
    assert lif["macs"] == conv0 + attn + w_c == 195 and lif["synops"] == synops == 432
    assert lif["energy_pj"] == pytest.approx(MAC_PJ * 195 + AC_PJ * 432)
    assert lif["spike_rate_enc2"] == lif["spike_rate_dec2"] == 1.0
    lstm = LstmSeq2Seq(10, v, embed_dim=e, hidden=c)
    by_hand = 4 * (e * c + c * c) * (ls + lt) + attn + lt * (2 * c * c + c * v)
    assert lstm_energy(lstm, ls, lt)["macs"] == by_hand == 591
    # trunk = convs (2 x (e c k + c) + 2 x (c c k + c)) + W_q + W_c (c c + c each) + 4 LIF x 2
    trunk = 2 * (e * c * k + c) + 2 * (c * c * k + c) + 2 * (c * c + c)
    assert seq2seq_parameters(models["relu"])["params_trunk"] == trunk
    assert seq2seq_parameters(models["lif"])["params_trunk"] == trunk + 8
    params = seq2seq_parameters(lstm)
    assert params["params_trunk"] == 2 * 4 * (e * c + c * c + 2 * c) + 2 * c * c + c
    assert params["params"] == params["params_trunk"] + (10 + v) * e + c * v + v


def _toy_data(n: int = 12) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(2)
    src, tgt = torch.randint(4, SV, (n, 5), generator=gen), torch.randint(4, TV, (n, 4),
                                                                           generator=gen)
    tgt[:, 0] = 2
    return src, torch.full((n,), 5), tgt, torch.full((n,), 4)


def test_training_keeps_the_best_validation_epoch():
    model, data = _model("relu"), _toy_data()
    cfg = LiteSeq2SeqConfig(epochs=4, batch_size=4, lr=1e-2)
    scores, snapshots = iter([3.0, 8.0, 8.0, 1.0]), []

    def validate() -> dict[str, float]:
        snapshots.append(model.out.weight.detach().clone())
        return {"bleu": next(scores), "loss": float(len(snapshots))}

    stats, curve = train_epochs(model, data, cfg, validate, seed=0, log=lambda _: None)
    assert [c["bleu"] for c in curve] == [3.0, 8.0, 8.0, 1.0]
    assert [c["epoch"] for c in curve] == [1.0, 2.0, 3.0, 4.0]
    assert stats["updates"] == 12 and stats["epochs"] == 4.0
    assert stats["best_epoch"] == 2.0 and stats["val_bleu"] == 8.0 and stats["val_loss"] == 2.0
    torch.testing.assert_close(model.out.weight, snapshots[1], rtol=0, atol=0)  # the earlier tie
    assert not torch.equal(snapshots[1], snapshots[3])


def test_cpu_budget_is_an_explicit_alternative_to_epochs():
    model, data = _model("relu"), _toy_data()
    cfg = LiteSeq2SeqConfig(epochs=1, budget_cpu_s=0.3, batch_size=4)
    stats, curve = train_epochs(model, data, cfg, lambda: {"bleu": 0.0, "loss": 1.0}, seed=0,
                                log=lambda _: None)
    assert stats["train_cpu_s"] >= 0.3 and stats["epochs"] > 1  # epochs is not the limit
    assert len(curve) == math.ceil(stats["epochs"]) and stats["best_epoch"] == 1.0


def test_tiny_run_two_seeds_writes_results(data_root, tmp_path):
    torch.set_num_threads(1)
    cfg = LiteSeq2SeqConfig(subset=200, test_subset=8, val_subset=6, epochs=1, embed_dim=16,
                            channels=16, lstm_hidden=16, steps=2, decode_max_len=10,
                            n_examples=2, data_dir=str(data_root), out_dir=str(tmp_path),
                            experiment="s2s_small")
    lines: list[str] = []
    metrics = run(cfg, log=lines.append, protocol=Protocol(seeds=(0, 1), val_fraction=0.2))
    record = assert_results_written(tmp_path, "s2s_small", metrics)
    assert metrics["train_pairs"] == 200 and metrics["test_pairs"] == 8
    assert metrics["val_pairs"] == 6 and "budget_cpu_s" not in metrics
    extra = record["extra"]
    assert extra["seeds"] == [0, 1]
    for kind in ("snn_carry", "snn", "relu_cnn", "lstm"):
        assert math.isfinite(metrics[f"{kind}_bleu"]) and 0 <= metrics[f"{kind}_bleu"] <= 100
        assert metrics[f"{kind}_updates"] == 4 and metrics[f"{kind}_epochs"] == 1.0
        assert metrics[f"{kind}_best_epoch"] == 1.0 and 0 <= metrics[f"{kind}_val_bleu"] <= 100
        assert metrics[f"{kind}_energy_pj"] > 0 and metrics[f"{kind}_params"] > 0
        for key in (f"{kind}_bleu", f"{kind}_val_bleu", f"{kind}_test_accuracy"):
            assert len(extra["per_seed"][key]) == 2
            assert metrics[key] == pytest.approx(sum(extra["per_seed"][key]) / 2)
        assert len(extra["val_curves"]["1"][kind]) == 1
    for snn, other in [("snn_carry", "snn"), ("snn_carry", "relu_cnn"), ("snn_carry", "lstm"),
                       ("snn", "relu_cnn"), ("snn", "lstm")]:
        diff = [a - b for a, b in zip(extra["per_seed"][f"{snn}_bleu"],
                                      extra["per_seed"][f"{other}_bleu"], strict=True)]
        assert extra["per_seed"][f"{snn}_minus_{other}_bleu"] == pytest.approx(diff)
    assert "snn_minus_snn_carry_bleu" not in metrics
    assert metrics["snn_synops"] > 0 and metrics["snn_carry_synops"] > 0
    assert metrics["lstm_synops"] == 0 and 0 <= metrics["snn_carry_leak_1"] <= 1
    val = record["validation"]  # Multi30k's own validation split, not carved off training
    assert (val["train"], val["val"]) == (200, 6) and val["fraction"] == pytest.approx(6 / 206)
    assert "official" in val["split"]
    config = record["config"]
    assert config["budget"] is False and config["budget_cpu_s"] is None and config["epochs"] == 1
    assert config["protocol"] == {"seeds": [0, 1], "val_fraction": 0.2, "val_seed": 0}
    assert "test_2016_flickr" in record["dataset"] and "1 epochs" in extra["training"]
    assert record["headline"][:4] == ["snn_carry_bleu", "snn_bleu", "relu_cnn_bleu", "lstm_bleu"]
    assert "signature" in extra["bleu"] and "greedy decoding" in extra["bleu"]
    assert config["beam"] == 1
    assert set(extra["examples"][0]) == {"src", "ref", "snn_carry", "snn", "relu_cnn", "lstm"}
    assert any("vocabularies" in line for line in lines)


def test_tiny_run_with_beam_search_names_it(data_root, tmp_path):
    """``beam`` > 1 decodes the test pairs by beam search (validation stays greedy) and the
    results file's BLEU description says so; the metric keys are those of greedy decoding."""
    torch.set_num_threads(1)
    common = dict(subset=60, test_subset=4, val_subset=3, epochs=1, embed_dim=8, channels=8,
                  steps=2, decode_max_len=6, n_examples=1, models=("relu_cnn",),
                  data_dir=str(data_root), out_dir=str(tmp_path))
    metrics = {}
    for beam in (1, 3):
        cfg = LiteSeq2SeqConfig(beam=beam, experiment=f"s2s_beam{beam}", **common)
        metrics[beam] = run(cfg, log=lambda _: None, protocol=Protocol(seeds=(0,)))
        record = assert_results_written(tmp_path, f"s2s_beam{beam}", metrics[beam])
        assert record["config"]["beam"] == beam
    assert "beam search decoding (width 3, length penalty 1" in record["extra"]["bleu"]
    assert "greedy" in record["extra"]["model_selection"]
    assert set(metrics[3]) == set(metrics[1])
    assert metrics[3]["relu_cnn_val_bleu"] == metrics[1]["relu_cnn_val_bleu"]  # greedy both
