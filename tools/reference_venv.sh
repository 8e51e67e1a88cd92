#!/usr/bin/env bash
# The legacy reference stack (tensorflow-tts 1.8 on TF 2.15 + tensorflow-addons, Keras 2) in a
# venv of its own: the tools/reference_*.py scripts that made tests/fixtures run in it. Never a
# dependency of synth. Usage: tools/reference_venv.sh [VENV]   (default /tmp/synth-reference-venv)
set -euo pipefail
V=${1:-/tmp/synth-reference-venv}
python3 -m venv "$V"
"$V/bin/pip" install -q "tensorflow==2.15.1" "tensorflow-addons==0.23.0" "numpy<2" "scipy<1.13" \
  pyyaml h5py soundfile "huggingface_hub==0.25.2" unidecode inflect jamo pypinyin "librosa<0.11" \
  german-transliterate
# TensorFlowTTS 1.8 pins packages that no longer install beside TF 2.15: its wheel alone.
"$V/bin/pip" download -q --no-deps -d /tmp/tftts-wheel TensorFlowTTS==1.8
"$V/bin/pip" install -q --no-deps /tmp/tftts-wheel/TensorFlowTTS-1.8-py3-none-any.whl
# tensorflow_tts imports g2p_en at import time, which downloads NLTK data: an inert stand-in
# (only the LibriTTS processor, unused here, needs it).
SP=$("$V/bin/python" -c 'import site; print(site.getsitepackages()[0])')
mkdir -p "$SP/g2p_en"
printf 'class G2p:\n    phonemes = ["AA", "AE"]\n    def __init__(self, *a, **k): pass\n    def __call__(self, t): return list(t)\n' > "$SP/g2p_en/g2p.py"
printf 'from . import g2p\nfrom .g2p import G2p\n' > "$SP/g2p_en/__init__.py"
"$V/bin/python" -c "import tensorflow_tts.models, tensorflow_tts.processor" && echo "reference venv ready: $V"
