"""Method 2: multimodal STDP, an image and an audio Diehl & Cook ensemble joined by plastic
excitatory cross-modal synapses (Rathi & Roy 2018), trained on class-matched pairs.

``audio``: the front end, an utterance -> a 28 x 28 log mel filter-bank image; ``features``:
FSDD utterances -> audio images, cached; ``pairing``: class-matched (image, utterance) pairs and
image noise; ``params``: the cross-modal synapse constants; ``kernels`` / ``engine``: the fast
numba network (:class:`~lava_thesis.multimodal.engine.MultimodalNetwork`); ``readout``: per
ensemble class scores and their fused vote; ``lava_net`` / ``lava_check``: the same network as the
Lava Process ``MultimodalEnsemble`` and the inference check against the engine; ``model_io``:
trained models as HDF5; ``plots``: the noise-robustness figure. The experiment is
:mod:`lava_thesis.experiments.multimodal`.
"""
