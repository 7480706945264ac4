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
"""

from __future__ import annotations

from pathlib import Path

from lava_thesis.data.shipped_fsdd import shipped_fsdd_root
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.diet.train import TrainConfig
from lava_thesis.experiments import diet, hybrid, multimodal, quickstart, stdp
from lava_thesis.hybrid.stdb import STDBConfig


def run_demo(out_dir: str | Path = "out/demo", *, seed: int = 0, epochs: int = 4,
             lava_samples: int = 500, diet_lava_samples: int = 200,
             log=print) -> dict[str, dict[str, float]]:
    """Run the demo sections; return their metrics."""
    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    dataset = "MNIST (shipped subset 2000/500)"
    log(f"== lava-thesis demo: {len(train[1])} training / {len(test[1])} test images "
        "(shipped MNIST subset, offline) ==")

    log("\n-- 1. SLAYER -> netx -> Lava (Poisson input, 16 steps) --")
    cfg = quickstart.QuickstartConfig(epochs=epochs, seed=seed, lava_samples=lava_samples)
    q = quickstart.run(train, test, out_dir, dataset=dataset, config=cfg,
                       experiment="demo_quickstart", log=log)
    n = int(q["lava_samples"])
    log(f"SLAYER accuracy (torch):    {q['torch_accuracy_lava_subset']:.2%} on {n} images")
    log(f"Lava accuracy ({cfg.lava_tag}): {q['lava_accuracy']:.2%} on {n} images")
    log(f"prediction agreement:       {q['agreement']:.2%}")
    log(f"output spikes identical:    {q['spike_match']:.2%}")

    log("\n-- 2. DIET-SNN: direct input, learnable leak and threshold, T=5 --")
    dcfg = diet.DietConfig(lava_samples=diet_lava_samples, train=TrainConfig(epochs=2, seed=seed),
                           sweep_steps=(1, 3, 5, 8))
    d = diet.run(train, test, out_dir, dataset=dataset, config=dcfg, experiment="demo_diet",
                 log=log)
    n = int(d["lava_samples"])
    log(f"ANN accuracy:               {d['ann_accuracy']:.2%} on {len(test[1])} images")
    log(f"DIET-SNN accuracy (torch):  {d['snn_accuracy']:.2%} on {len(test[1])} images (T=5)")
    log(f"Lava accuracy (fixed_pt):   {d['lava_accuracy']:.2%} on {n} images")
    log(f"prediction agreement:       {d['agreement']:.2%}")
    log(f"identical readout voltages: {d['readout_match']:.2%}")
    log(f"compute energy ANN / SNN:   {d.get('energy_ratio', float('nan')):.1f}x (45 nm model)")

    log("\n-- 3. STDP: 100 neurons, unsupervised, 50% pruned + 8 weight levels --")
    scfg = stdp.STDPConfig(n_exc=100, epochs=3, assign_samples=len(train[1]), lava_samples=10,
                           prune_fraction=0.5, levels=8, prune_interval=500, seed=seed)
    s = stdp.run(train, test, out_dir, dataset=dataset, config=scfg, experiment="demo_stdp",
                 log=log)
    log(f"STDP accuracy (engine):     {s['accuracy']:.2%} on {len(test[1])} images")
    log(f"Lava accuracy (floating_pt): {s['lava_accuracy']:.2%} on {int(s['lava_samples'])} "
        f"images; agreement {s['agreement']:.2%}")
    log(f"synapses kept:              {int(s['synapses'])} ({1 - s['pruned_fraction']:.0%}), "
        f"{int(s['bits_per_weight'])} bits each; est. area {s['area_ratio']:.0f}x smaller")
    log(f"receptive fields:           {Path(out_dir)}/demo_stdp_receptive_fields.png")

    log("\n-- 4. Hybrid: ANN -> conversion -> STDB fine-tuning (20 steps) -> Lava --")
    hcfg = hybrid.HybridConfig(ann_epochs=2, num_steps=20, balance_steps=50,
                               stdb=STDBConfig(epochs=2, seed=seed), stdb_samples=1000,
                               sweep_steps=(10, 20, 40), eval_samples=len(test[1]),
                               lava_samples=20, energy_samples=50)
    h = hybrid.run(train, test, out_dir, dataset=dataset, config=hcfg,
                   experiment="demo_hybrid", log=log)
    log(f"ANN accuracy:               {h['ann_accuracy']:.2%}")
    log(f"converted SNN (T=20):       {h['converted_accuracy']:.2%}")
    log(f"hybrid after STDB (T=20):   {h['hybrid_accuracy']:.2%}")
    log(f"Lava vs. SLAYER twin:       {h['agreement_hybrid']:.2%} agreement on "
        f"{int(h['lava_samples'])} images")
    m = _multimodal(train, test, out_dir, seed, log)
    e = _lite_events(train, test, out_dir, seed, log)
    log(f"\nresults: {Path(out_dir)}/demo_quickstart.json, demo_diet.json, demo_stdp.json, "
        "demo_hybrid.json, demo_multimodal.json, demo_lite_events.json (+ plots)")
    return {"quickstart": q, "diet": d, "stdp": s, "hybrid": h, "multimodal": m,
            "lite_events": e}


def _lite_events(train, test, out_dir: str | Path, seed: int, log) -> dict[str, float]:
    """Section 6: LITE-SNN on *synthetic* N-MNIST-like recordings of the shipped digits."""
    from lava_thesis.experiments.lite_events import LiteEventsConfig
    from lava_thesis.experiments.lite_events import run as run_events
    from lava_thesis.lite.events_dataset import build_synthetic_events

    log("\n-- 6. LITE-SNN: conv LIF SNN vs CNN+GRU on synthetic event streams -> Lava --")
    cache = Path(out_dir) / "event_cache"
    n_train, n_test = 1000, 200
    data = (build_synthetic_events(train[0][:n_train], train[1][:n_train], seed=seed,
                                   cache_dir=cache),
            build_synthetic_events(test[0][:n_test], test[1][:n_test], seed=seed,
                                   cache_dir=cache))
    cfg = LiteEventsConfig(n_train=n_train, n_test=n_test, epochs=2, lava_samples=20,
                           energy_samples=100, seed=seed, out_dir=str(out_dir),
                           model_dir=str(out_dir), experiment="demo_lite_events")
    e = run_events(cfg, data=data, log=log)
    log(f"SNN accuracy (torch):       {e['snn_test_accuracy']:.2%} on {n_test} recordings "
        f"({int(e['snn_params'])} parameters, {e['snn_energy_pj'] / 1e6:.2f} µJ)")
    log(f"CNN+GRU accuracy:           {e['gru_test_accuracy']:.2%} ({int(e['gru_params'])} "
        f"parameters, {e['gru_energy_pj'] / 1e6:.2f} µJ)")
    log(f"Lava agreement:             {e['lava_agreement']:.2%} on {int(e['lava_samples'])} "
        f"recordings; output spikes identical {e['lava_spike_match']:.2%}")
    return e


def _multimodal(train, test, out_dir: str | Path, seed: int, log) -> dict[str, float]:
    from lava_thesis.multimodal.features import fsdd_images

    root = shipped_fsdd_root()
    audio_train, audio_test = fsdd_images("train", root), fsdd_images("test", root)
    log(f"\n-- 5. Multimodal STDP: MNIST digits + {len(audio_train[1])}/{len(audio_test[1])} "
        "shipped FSDD utterances (stand-in for TI46), 100 + 100 neurons --")
    data = multimodal.MultimodalData(train, test, audio_train, audio_test,
                                     lambda snr: fsdd_images("test", root, snr_db=snr)[0])
    cfg = multimodal.MultimodalConfig(n_exc=100, epochs=3, assign_pairs=len(train[1]),
                                      lava_pairs=6, seed=seed)
    m = multimodal.run(data, out_dir, dataset="MNIST (shipped) + FSDD (shipped subset)",
                       config=cfg, experiment="demo_multimodal", log=log)
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
    return m
