"""``lava-thesis demo``: the main job, offline, on the MNIST subset shipped in the package.

1. Quickstart: Poisson-coded MNIST -> SLAYER CUBA-LIF network -> netx -> Lava fixed point.
2. DIET-SNN: direct (analog, 8-bit) input, learnable leak and threshold, 5 time steps ->
   netx -> Lava fixed point, with the compute-energy estimate against its ANN.
3. STDP: unsupervised Diehl & Cook network (power-law STDP), pruned and quantized during
   training, receptive fields plotted, checked in Lava against the engine.
4. Hybrid: ANN -> IF conversion (threshold balancing) -> STDB fine-tuning at 20 steps ->
   netx -> Lava fixed point.
5. Multimodal: image + audio STDP ensembles with cross-modal STDP synapses, on MNIST digits
   paired with the shipped FSDD utterances (stand-in for TI46), with noise in one modality,
   checked in Lava against the engine.
6. LITE-SNN: synthetic N-MNIST-like event recordings of shipped digits -> conv LIF SNN vs
   CNN+GRU (accuracy, parameters, energy) -> netx -> Lava fixed point.

Every section prints its time and shows one progress bar (tqdm; ``TQDM_DISABLE=1`` hides it).
Section 5 (numba, no torch) runs in a forked worker process while sections 1-4 and 6 run here,
so the demo uses two cores; the report is printed in section order.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from lava_thesis.data.shipped_fsdd import shipped_fsdd_root
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.diet.train import TrainConfig
from lava_thesis.experiments import diet, hybrid, multimodal, quickstart, stdp
from lava_thesis.hybrid.stdb import STDBConfig


@dataclass(frozen=True)
class DemoSize:
    """How much the sections do. Sections 1 and 2 always train on every shipped training
    image (fewer leave DIET's thresholds untrainable); the others use ``train_images``.

    :data:`FULL` is ``make demo``; :data:`TINY` runs every section's code path (training,
    export, Lava) at a test size, in seconds.
    """

    train_images: int = 2000  #: of the 2,000 shipped training digits
    test_images: int = 500  #: of the 500 shipped test digits
    diet_epochs: int = 2
    stdp_neurons: int = 100
    stdp_epochs: int = 3
    stdp_lava: int = 10
    hybrid_epochs: int = 2  #: ANN epochs and STDB epochs
    stdb_samples: int = 1000
    hybrid_lava: int = 20
    multimodal_neurons: int = 100  #: per ensemble
    multimodal_epochs: int = 3
    multimodal_lava: int = 6
    events_train: int = 1000
    events_test: int = 200
    events_epochs: int = 2
    events_lava: int = 20


FULL = DemoSize()
TINY = DemoSize(train_images=300, test_images=100, diet_epochs=1, stdp_neurons=10,
                stdp_epochs=1, stdp_lava=2, hybrid_epochs=1, stdb_samples=100, hybrid_lava=4,
                multimodal_neurons=10, multimodal_epochs=1, multimodal_lava=2,
                events_train=60, events_test=20, events_epochs=1, events_lava=4)

TITLES = ("1. quickstart", "2. DIET-SNN", "3. STDP", "4. hybrid", "5. multimodal",
          "6. LITE events")
#: log lines each section's experiment writes (the progress bar advances on each)
STAGES = (5, 8, 3, 7, 5, 7)


class _Section:
    """One section's progress bar and clock: its log lines advance the bar (printed above
    it); :meth:`done` fills the bar and prints the section's time."""

    def __init__(self, index: int, log: Callable[[str], None]) -> None:
        self.log, self.total = log, STAGES[index]
        self.title, self.t0 = TITLES[index], time.perf_counter()
        self.bar = tqdm(total=self.total, desc=self.title, unit="stage", leave=False)

    def __call__(self, message: str) -> None:
        with tqdm.external_write_mode():
            self.log(message)
        if self.bar.n < self.total - 1:
            self.bar.update(1)

    def done(self, seconds: float | None = None) -> None:
        self.bar.update(self.total - self.bar.n)
        self.bar.close()
        seconds = time.perf_counter() - self.t0 if seconds is None else seconds
        self.log(f"[{self.title}: {seconds:.0f} s]")


class _Worker:
    """A section run in a forked process: its log lines and its result come back through a
    pipe; :meth:`join` replays the log into ``log`` and returns ``(result, seconds)``."""

    def __init__(self, fn: Callable[[Callable[[str], None]], dict]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=self._main, args=(send, fn))  # may start Lava
        self._proc.start()
        send.close()
        self._answered = False

    @staticmethod
    def _main(send, fn) -> None:
        t0 = time.perf_counter()
        try:
            result = fn(lambda message: send.send(("log", message)))
            send.send(("ok", (result, time.perf_counter() - t0)))
        except BaseException:  # report everything to the parent, which raises it
            send.send(("error", traceback.format_exc()))
        finally:
            send.close()

    def join(self, log: Callable[[str], None]) -> tuple[dict, float]:
        try:
            while True:
                try:
                    kind, payload = self._recv.recv()
                except EOFError as err:
                    self._proc.join(timeout=10)
                    raise RuntimeError(f"the demo's worker process died (exit code "
                                       f"{self._proc.exitcode}) without a result") from err
                if kind == "log":
                    log(payload)
                    continue
                self._answered = True
                if kind == "ok":
                    return payload
                else:
                    raise RuntimeError(f"a demo section failed in its worker process:\n"
                                       f"{payload}")
        finally:
            self.stop()

    def stop(self) -> None:
        """Close the pipe; a worker that has not answered (the demo failed elsewhere) is
        killed at once."""
        self._recv.close()
        if self._answered:
            self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


def run_demo(out_dir: str | Path = "out/demo", *, seed: int = 0, epochs: int = 4,
             lava_samples: int = 500, diet_lava_samples: int = 50, size: DemoSize = FULL,
             parallel: bool = True, log=print) -> dict[str, dict[str, float]]:
    """Run the six demo sections; return their metrics by section name.

    Parameters
    ----------
    out_dir: where the results JSON files, plots and model files go.
    seed: seed of every section.
    epochs: quickstart training epochs.
    lava_samples: quickstart test images run in Lava (at most 500).
    diet_lava_samples: DIET test images run in Lava.
    size: how much the sections do (:data:`FULL`, or :data:`TINY` for tests).
    parallel: run section 5 in a forked worker process alongside the other sections (the
        results are the same: every section seeds its own random numbers).
    log: where the report lines go.
    """
    t_start = time.perf_counter()
    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    small = ((train[0][:size.train_images], train[1][:size.train_images]),
             (test[0][:size.test_images], test[1][:size.test_images]))
    log(f"== lava-thesis demo: {len(train[1])} training / {len(test[1])} test images "
        "(shipped MNIST subset, offline) ==")
    worker = _Worker(lambda wlog: _multimodal(small, out_dir, seed, size, wlog)) \
        if parallel else None
    try:
        q = _quickstart(train, test, out_dir, seed, epochs, lava_samples, log)
        d = _diet((train, small[1]), out_dir, seed, size, diet_lava_samples, log)
        s = _stdp(small, out_dir, seed, size, log)
        h = _hybrid(small, out_dir, seed, size, log)
        later: list[str] = []  # with the worker, section 6 runs first; its lines follow 5's
        if worker is not None:
            e = _lite_events(small, out_dir, seed, size, later.append)
        section = _Section(4, log)
        if worker is None:
            m, seconds = _multimodal(small, out_dir, seed, size, section), None
        else:
            m, seconds = worker.join(section)
        section.done(seconds)
        _report_multimodal(m, out_dir, log)
        if worker is None:
            e = _lite_events(small, out_dir, seed, size, log)
        for line in later:
            log(line)
    finally:
        if worker is not None:
            worker.stop()
    log(f"\nresults: {Path(out_dir)}/demo_quickstart.json, demo_diet.json, demo_stdp.json, "
        "demo_hybrid.json, demo_multimodal.json, demo_lite_events.json (+ plots)")
    log(f"demo finished in {time.perf_counter() - t_start:.0f} s")
    return {"quickstart": q, "diet": d, "stdp": s, "hybrid": h, "multimodal": m,
            "lite_events": e}


def _quickstart(train, test, out_dir, seed: int, epochs: int, lava_samples: int, log) -> dict:
    dataset = "MNIST (shipped subset 2000/500)"
    log("\n-- 1. SLAYER -> netx -> Lava (Poisson input, 16 steps) --")
    section = _Section(0, log)
    cfg = quickstart.QuickstartConfig(epochs=epochs, seed=seed, lava_samples=lava_samples)
    q = quickstart.run(train, test, out_dir, dataset=dataset, config=cfg,
                       experiment="demo_quickstart", log=section)
    section.done()
    n = int(q["lava_samples"])
    log(f"deployed accuracy:          {q['deployed_accuracy']:.2%} on {len(test[1])} images "
        "(the exported fixed-point net, SLAYER twin)")
    log(f"Lava accuracy ({cfg.lava_tag}): {q['lava_accuracy']:.2%} on {n} images")
    log(f"prediction agreement:       {q['agreement']:.2%}")
    log(f"output spikes identical:    {q['spike_match']:.2%}")
    return q


def _dataset(train, test) -> str:
    return f"MNIST (shipped subset {len(train[1])}/{len(test[1])})"


def _diet(data, out_dir, seed: int, size: DemoSize, lava_samples: int, log) -> dict:
    train, test = data
    log("\n-- 2. DIET-SNN: direct input, learnable leak and threshold, T=5 --")
    section = _Section(1, log)
    dcfg = diet.DietConfig(lava_samples=lava_samples,
                           train=TrainConfig(epochs=size.diet_epochs, seed=seed),
                           sweep_steps=(1, 3, 5, 8))
    d = diet.run(train, test, out_dir, dataset=_dataset(train, test), config=dcfg,
                 experiment="demo_diet", log=section)
    section.done()
    n = int(d["lava_samples"])
    log(f"ANN accuracy:               {d['ann_accuracy']:.2%} on {len(test[1])} images")
    log(f"deployed accuracy (T=5):    {d['deployed_accuracy']:.2%} on {len(test[1])} images "
        "(fixed point, SLAYER twin)")
    log(f"Lava accuracy (fixed_pt):   {d['lava_accuracy']:.2%} on {n} images")
    log(f"prediction agreement:       {d['agreement']:.2%}")
    log(f"identical readout voltages: {d['readout_match']:.2%}")
    log(f"compute energy ANN / SNN:   {d.get('energy_ratio', float('nan')):.1f}x (45 nm model)")
    return d


def _stdp(data, out_dir, seed: int, size: DemoSize, log) -> dict:
    train, test = data
    log(f"\n-- 3. STDP: {size.stdp_neurons} neurons, unsupervised, 50% pruned + 8 weight "
        "levels --")
    section = _Section(2, log)
    scfg = stdp.STDPConfig(n_exc=size.stdp_neurons, epochs=size.stdp_epochs,
                           assign_samples=len(train[1]), lava_samples=size.stdp_lava,
                           prune_fraction=0.5, levels=8, prune_interval=500, seed=seed)
    s = stdp.run(train, test, out_dir, dataset=_dataset(train, test), config=scfg,
                 experiment="demo_stdp", log=section)
    section.done()
    log(f"STDP accuracy (engine):     {s['accuracy']:.2%} on {len(test[1])} images; in "
        f"8-bit integers {s['deployed_accuracy']:.2%}")
    log(f"Lava accuracy (fixed_pt):   {s['lava_accuracy']:.2%} on {int(s['lava_samples'])} "
        f"images; agreement with the integer engine {s['agreement']:.2%}")
    log(f"synapses kept:              {int(s['synapses'])} ({1 - s['pruned_fraction']:.0%}), "
        f"{int(s['bits_per_weight'])} bits each; est. area {s['area_ratio']:.0f}x smaller")
    log(f"receptive fields:           {Path(out_dir)}/demo_stdp_receptive_fields.png")
    return s


def _hybrid(data, out_dir, seed: int, size: DemoSize, log) -> dict:
    train, test = data
    log("\n-- 4. Hybrid: ANN -> conversion -> STDB fine-tuning (20 steps) -> Lava --")
    section = _Section(3, log)
    hcfg = hybrid.HybridConfig(ann_epochs=size.hybrid_epochs, num_steps=20, balance_steps=50,
                               stdb=STDBConfig(epochs=size.hybrid_epochs, seed=seed),
                               stdb_samples=size.stdb_samples, sweep_steps=(10, 20, 40),
                               eval_samples=len(test[1]), lava_samples=size.hybrid_lava,
                               energy_samples=50, threshold_scales=(0.7,),
                               percentiles=(None,))  # one candidate: the demo's time
    h = hybrid.run(train, test, out_dir, dataset=_dataset(train, test), config=hcfg,
                   experiment="demo_hybrid", log=section)
    section.done()
    log(f"ANN accuracy:               {h['ann_accuracy']:.2%}")
    log(f"converted SNN (T=20):       {h['deployed_accuracy_converted']:.2%} as deployed "
        f"(torch readout {h['converted_accuracy']:.2%})")
    log(f"hybrid after STDB (T=20):   {h['deployed_accuracy_hybrid']:.2%} as deployed "
        f"(torch readout {h['hybrid_accuracy']:.2%})")
    log(f"Lava vs. SLAYER twin:       {h['agreement_hybrid']:.2%} agreement on "
        f"{int(h['lava_samples'])} images")
    return h


def _multimodal(data, out_dir, seed: int, size: DemoSize, log) -> dict[str, float]:
    """Section 5 without its report lines (it may run in the worker process)."""
    from lava_thesis.multimodal.features import fsdd_images

    train, test = data
    root = shipped_fsdd_root()
    audio_train, audio_test = fsdd_images("train", root), fsdd_images("test", root)
    log(f"\n-- 5. Multimodal STDP: MNIST digits + {len(audio_train[1])}/{len(audio_test[1])} "
        f"shipped FSDD utterances (stand-in for TI46), {size.multimodal_neurons} + "
        f"{size.multimodal_neurons} neurons --")
    mdata = multimodal.MultimodalData(train, test, audio_train, audio_test,
                                      lambda snr: fsdd_images("test", root, snr_db=snr)[0])
    cfg = multimodal.MultimodalConfig(n_exc=size.multimodal_neurons,
                                      epochs=size.multimodal_epochs,
                                      assign_pairs=len(train[1]),
                                      lava_pairs=size.multimodal_lava, seed=seed,
                                      images_per_utterance=1)  # demo time
    return multimodal.run(mdata, out_dir, dataset="MNIST (shipped) + FSDD (shipped subset)",
                          config=cfg, experiment="demo_multimodal", log=log)


def _report_multimodal(m: dict[str, float], out_dir, log) -> None:
    n = int(m["test_pairs"])
    log(f"image alone / audio alone:  {m['image_accuracy']:.2%} / {m['audio_accuracy']:.2%} "
        f"on {n} test pairs")
    log(f"multimodal:                 {m['multimodal_accuracy']:.2%} "
        f"(without cross-modal synapses: {m['multimodal_accuracy_no_cross']:.2%})")
    log(f"with one modality noisy:    multimodal >= best unimodal in "
        f"{m['noise_multimodal_above_best_unimodal']:.0%} of {int(m['noise_conditions'])} "
        f"conditions ({Path(out_dir)}/demo_multimodal_robustness.png)")
    log(f"Lava vs. engine:            {m['lava_agreement']:.2%} agreement on "
        f"{int(m['lava_pairs'])} pairs")


def _lite_events(data, out_dir, seed: int, size: DemoSize, log) -> dict[str, float]:
    """Section 6: LITE-SNN on *synthetic* N-MNIST-like recordings of the shipped digits."""
    from lava_thesis.experiments.lite_events import LiteEventsConfig
    from lava_thesis.experiments.lite_events import run as run_events
    from lava_thesis.lite.events_dataset import build_synthetic_events

    train, test = data
    log("\n-- 6. LITE-SNN: conv LIF SNN vs CNN+GRU and ConvLSTM on synthetic event streams "
        "-> Lava --")
    section = _Section(5, log)
    cache = Path(out_dir) / "event_cache"
    n_train, n_test = size.events_train, size.events_test
    events = (build_synthetic_events(train[0][:n_train], train[1][:n_train], seed=seed,
                                     cache_dir=cache),
              build_synthetic_events(test[0][:n_test], test[1][:n_test], seed=seed,
                                     cache_dir=cache))
    cfg = LiteEventsConfig(n_train=n_train, n_test=n_test, epochs=size.events_epochs,
                           lava_samples=size.events_lava, energy_samples=100, seed=seed,
                           out_dir=str(out_dir), model_dir=str(out_dir),
                           experiment="demo_lite_events")
    e = run_events(cfg, data=events, log=section)
    section.done()
    log(f"SNN accuracy as deployed:   {e['deployed_accuracy']:.2%} on {n_test} recordings "
        f"({int(e['snn_params'])} parameters, {e['snn_energy_pj'] / 1e6:.2f} µJ)")
    log(f"CNN+GRU accuracy:           {e['gru_test_accuracy']:.2%} ({int(e['gru_params'])} "
        f"parameters, {e['gru_energy_pj'] / 1e6:.2f} µJ)")
    log(f"ConvLSTM accuracy:          {e['convlstm_test_accuracy']:.2%} "
        f"({int(e['convlstm_params'])} parameters, {e['convlstm_energy_pj'] / 1e6:.2f} µJ)")
    match = ("final voltages identical", e["lava_readout_match"]) \
        if "lava_readout_match" in e else ("output spikes identical", e["lava_spike_match"])
    log(f"Lava agreement:             {e['lava_agreement']:.2%} on {int(e['lava_samples'])} "
        f"recordings; {match[0]} {match[1]:.2%}")
    return e
