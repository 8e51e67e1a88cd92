"""The page's Train tab, through its handlers: train on two uploads for a few seconds,
follow the grid and losses, then restyle a photo with the model it made."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

ROOT = Path(__file__).parent.parent


def _photos(folder: Path, colour, count=4) -> list[str]:
    folder.mkdir()
    rng = np.random.default_rng(len(str(folder)))
    paths = []
    for i in range(count):
        image = Image.new("RGB", (80, 80), (128, 128, 128))
        draw = ImageDraw.Draw(image)
        for _ in range(4):
            x, y, r = rng.integers(10, 70, 3)
            draw.ellipse([x - r // 3, y - r // 3, x + r // 3, y + r // 3], fill=colour)
        paths.append(str(folder / f"{i}.png"))
        image.save(paths[-1])
    return paths


@pytest.mark.slow
def test_train_tab_follows_a_short_run_and_its_model_restyles(tmp_path):
    sys.path.insert(0, str(ROOT))
    import app

    warm, cool = _photos(tmp_path / "warm", (220, 90, 40)), _photos(tmp_path / "cool", (40, 90, 220))
    updates = list(app.train_page(warm, cool, 0.1, 64, "resnet", None))
    assert len(updates) >= 2
    grid, losses, line, run_dir = updates[0]
    assert grid.size == (3 * 64, 2 * 64) and Path(losses).is_file() and line.startswith("Step ")
    assert updates[-1][2].startswith("Done: ") and Path(run_dir, "model.safetensors").is_file()
    restyled = app.try_trained(str(ROOT / "assets" / "chelsea.jpg"), run_dir, None)
    with Image.open(restyled) as image:  # a PNG of this request's own
        assert image.size == (451, 300) and image.format == "PNG"


def test_train_tab_needs_both_kinds():
    sys.path.insert(0, str(ROOT))
    import app
    import gradio as gr

    with pytest.raises(gr.Error, match="Upload photos of both kinds first"):
        next(app.train_page([], ["x.png"], 1, 64, "resnet", None))
    with pytest.raises(gr.Error, match="Train a model first"):
        app.try_trained(None, None, None)
