"""`synth speak | stylize | models | download` — the engines from a terminal."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


class UsageError(Exception):
    """A command line that cannot work, found before any model (or TensorFlow) loads."""


def _check_model(name: str, task: str, option: str) -> None:
    """A catalog name of the right kind, a local directory or a Hub repo id (org/name)."""
    from synth import catalog

    if Path(name).expanduser().is_dir() or ("/" in name and name not in catalog.MODELS):
        return
    valid = ", ".join(m.name for m in catalog.models(task) if m.available)
    if name in catalog.MODELS and catalog.MODELS[name].task != task:
        raise UsageError(f"{option} {name}: that is a {catalog.MODELS[name].task}, not a {task}; {task}s: {valid}")
    if name not in catalog.MODELS:
        raise UsageError(f"{option} {name}: unknown {task}; {task}s: {valid} (or a local directory, or a Hub "
                         "repo id org/name)")


def _check_controls(args) -> None:
    """--pitch / --energy only for a catalog voice whose model family has them."""
    from synth import catalog

    model = catalog.MODELS.get(args.voice)
    for name in ("pitch", "energy"):
        if model and getattr(args, name) != 1.0 and name not in model.controls:
            with_it = ", ".join(m.name for m in catalog.models("voice") if name in m.controls)
            raise UsageError(f"--{name}: {args.voice} ({model.display()}) has no {name} control; "
                             f"voices that do: {with_it}")


def _speak(args) -> int:
    if args.vocoder is None:
        _check_model(args.voice, "voice", "--voice")
        _check_controls(args)
    from synth.speech import SpeechOptions, Voice

    options = SpeechOptions(seed=args.seed, max_steps=args.max_steps, speed=args.speed, pitch=args.pitch,
                            energy=args.energy)
    voice = Voice.from_pretrained(args.voice, vocoder=args.vocoder)
    speech = voice.speak(args.text, options)
    if speech.skipped:
        print(f"skipped, this voice cannot say: {' '.join(speech.skipped)}", file=sys.stderr)
    speech.write(args.output)
    print(f"{args.output}: {speech.duration:.2f} s at {speech.sample_rate} Hz, "
          f"{len(speech.sentences)} sentence(s)")
    return 0


def _image_files(inputs: list[str]) -> list[Path]:
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    return files


def _output(args, files: list[Path]) -> tuple[Path, bool]:
    """(-o path, whether it is a folder): one input file may go to a file or into a folder;
    several inputs, or a folder of them, go into a folder, never to one image file."""
    output = Path(args.output)
    several = len(files) > 1 or any(Path(i).is_dir() for i in args.inputs)
    if several and output.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(f"-o {args.output}: {len(files)} images cannot go into one file; give a folder")
    return output, several or output.is_dir() or args.output.endswith(("/", "\\"))


def _stylize(args) -> int:
    _check_model(args.model, "style", "-m/--model")
    missing = [i for i in args.inputs if not Path(i).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    files = _image_files(args.inputs)
    if not files:
        raise UsageError(f"no images in {' '.join(args.inputs)} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    output, to_folder = _output(args, files)

    from tqdm import tqdm

    from synth.errors import ImageError
    from synth.image import Styler, load_image

    if to_folder:
        output.mkdir(parents=True, exist_ok=True)
    styler = Styler.from_pretrained(args.model, max_side=args.max_side)
    failed = 0
    with tqdm(total=len(files), unit="image", disable=len(files) < 2) as bar:
        for start in range(0, len(files), args.batch_size):
            loaded = []
            for path in files[start:start + args.batch_size]:
                try:
                    loaded.append((path, load_image(path, args.max_side)))
                except ImageError as e:  # one bad file is reported and skipped
                    failed += 1
                    tqdm.write(f"skipped {path}: {e}", file=sys.stderr)
                    bar.update(1)
            for (path, _), image in zip(loaded, styler.stylize_batch([a for _, a in loaded])):
                target = output / f"{path.stem}.png" if to_folder else output
                image.save(target)
                bar.update(1)
    print(f"{len(files) - failed} image(s) written to {output}" + (f", {failed} skipped" if failed else ""))
    return 1 if failed == len(files) else 0


def _models(args) -> int:
    from synth import catalog, hub

    print(f"{'name':<24} {'task':<6} {'lang':<5} {'size':>9}  {'cached':<7} note")
    for model in catalog.models():
        cached = "yes" if hub.is_cached(model.name) else "no"
        note = model.display("en") if model.available else f"unavailable: {model.unavailable}"
        language = model.language or "-"
        print(f"{model.name:<24} {model.task:<6} {language:<5} {model.size_mb:>6.0f} MB  {cached:<7} {note}")
    return 0


def _download(args) -> int:
    from synth import catalog, hub
    from synth.errors import SynthError

    names = [m.name for m in catalog.models()] if args.all else args.names
    if not names:
        raise UsageError(f"name the models to download, or pass --all; models: {', '.join(catalog.MODELS)}")
    failed = 0
    for name in names:
        try:
            paths = hub.download(name)
            print(f"{name}: ok ({', '.join(map(str, paths))})")
        except SynthError as e:
            failed += 1
            print(f"{name}: FAILED: {e}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = {"formatter_class": argparse.ArgumentDefaultsHelpFormatter}

    speak = commands.add_parser("speak", help="text -> WAV", **defaults)
    speak.add_argument("text")
    speak.add_argument("--voice", default="ljspeech-en", help="catalog voice (see `synth models`), or a "
                       "text-to-mel directory/repo id with --vocoder")
    speak.add_argument("--vocoder", help="Multi-band MelGAN directory/repo id (when --voice is not a catalog name)")
    speak.add_argument("-o", "--output", default="speech.wav")
    speak.add_argument("--seed", type=int, help="makes dropout, and so the audio, reproducible")
    speak.add_argument("--max-steps", type=int, help="decoder-step cap per sentence (Tacotron2)")
    speak.add_argument("--speed", type=float, default=1.0, help="0.5 (slower) to 2.0 (faster), same pitch")
    speak.add_argument("--pitch", type=float, default=1.0, help="0.5 (lower) to 2.0 (higher) (FastSpeech2 voices)")
    speak.add_argument("--energy", type=float, default=1.0, help="0.5 (softer) to 2.0 (louder) (FastSpeech2 voices)")
    speak.set_defaults(run=_speak)

    stylize = commands.add_parser("stylize", help="restyle images with a CycleGAN generator", **defaults)
    stylize.add_argument("inputs", nargs="+", help="image files or folders")
    stylize.add_argument("-m", "--model", default="horse2zebra", help="catalog name, directory or repo id")
    stylize.add_argument("-o", "--output", required=True,
                         help="output PNG file (one input) or folder (several inputs, or ending in /)")
    stylize.add_argument("--max-side", type=int, default=1024, help="working size: longest side in pixels")
    stylize.add_argument("--batch-size", type=int, default=4)
    stylize.set_defaults(run=_stylize)

    models = commands.add_parser("models", help="list the catalog and what is cached")
    models.set_defaults(run=_models)

    download = commands.add_parser("download", help="fetch catalog models into the Hugging Face cache",
                                     **defaults)
    download.add_argument("names", nargs="*")
    download.add_argument("--all", action="store_true", help="every model in the catalog")
    download.set_defaults(run=_download)
    return parser


def main(argv: list[str] | None = None) -> None:
    from synth.errors import SynthError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except UsageError as e:
        print(f"synth {args.command}: {e}", file=sys.stderr)
        sys.exit(2)
    except SynthError as e:
        print(f"synth {args.command}: {e}", file=sys.stderr)
        sys.exit(1)
