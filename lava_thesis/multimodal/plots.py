"""The noise-robustness figure of the multimodal experiment."""

from __future__ import annotations

from pathlib import Path

from lava_thesis.plots import new_figure, save_figure

PANELS = (("gaussian", "image: Gaussian noise sigma (pixel units)"),
          ("salt_pepper", "image: salt-and-pepper fraction"),
          ("audio_snr_db", "audio: white-noise SNR (dB)"))


def _positions(kind: str, levels: list) -> tuple[list[float], list[str]]:
    """x positions and tick labels; the clean test set (level None) is at noise 0, or for the
    SNR axis 10 dB beyond the cleanest noisy level, labelled "clean"."""
    noisy = [lv for lv in levels if lv is not None]
    clean_at = (max(noisy) + 10.0 if noisy else 0.0) if kind == "audio_snr_db" else 0.0
    x = [clean_at if lv is None else float(lv) for lv in levels]
    return x, ["clean" if lv is None else f"{lv:g}" for lv in levels]


def plot_robustness(tables: dict[str, list[dict]], path: str | Path, *,
                    title: str = "") -> Path:
    """Accuracy vs noise level, one panel per noise kind: the noisy modality alone, the clean
    one alone, multimodal, and multimodal without cross-modal synapses (``tables["no_cross"]``,
    if present). ``tables[name]`` are the rows of
    :func:`lava_thesis.experiments.multimodal.robustness` (level None: no noise), or their
    means over seeds (:func:`lava_thesis.experiments.multimodal.mean_tables`), whose
    ``<key>_min``/``<key>_max`` are drawn as a band."""
    fig = new_figure((12.0, 3.6))
    for k, (kind, xlabel) in enumerate(PANELS):
        ax = fig.add_subplot(1, len(PANELS), k + 1)
        rows = [r for r in tables["cross"] if r["noise"] == kind]
        x, ticks = _positions(kind, [r["level"] for r in rows])
        for key, label in (("noisy_modality_alone", "noisy modality alone"),
                           ("clean_modality_alone", "clean modality alone"),
                           ("multimodal", "multimodal")):
            line, = ax.plot(x, [100 * r[key] for r in rows], marker="o", label=label)
            if all(f"{key}_min" in r for r in rows):  # spread over seeds
                ax.fill_between(x, [100 * r[f"{key}_min"] for r in rows],
                                [100 * r[f"{key}_max"] for r in rows],
                                color=line.get_color(), alpha=0.15, lw=0)
        if "no_cross" in tables:
            ab = [r for r in tables["no_cross"] if r["noise"] == kind]
            ax.plot(x, [100 * r["multimodal"] for r in ab], marker="x", ls="--",
                    label="multimodal, no cross-modal")
        if kind == "audio_snr_db":
            ax.invert_xaxis()
        ax.set_xticks(x, ticks)
        ax.set(xlabel=xlabel, ylabel="test accuracy (%)")
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
