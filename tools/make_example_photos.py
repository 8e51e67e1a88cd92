"""Make the Image tab's per-style example photos (assets/*.jpg listed in assets/photos.json).

Every source picture comes from a Debian package; assets/README.md credits each one (author,
licence, the package and the path inside it). Run on Debian (bookworm) as a user that may run
`apt-get download`; nothing is installed, the packages are only unpacked under WORK:

    python tools/make_example_photos.py [--work /tmp/synth-photo-sources] [--out assets]

The output is deterministic for the same package versions (listed in PACKAGES). What it does
to each picture (crop, resize, compose) is written next to it below and in assets/README.md.
"""
import argparse
import glob
import os
import struct
import subprocess
import zlib

from PIL import Image, ImageDraw, ImageFilter

PACKAGES = {  # the versions assets/README.md names
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "gcompris-qt-data": "3.1-2",
    "tuxpaint-stamps-default": "2022.06.04-1",
    "palapeli-data": "4:22.12.3-1",
}
QUALITY = 88


def unpack(work: str) -> None:
    """apt-get download each package (any version; PACKAGES names the one used) and unpack it."""
    debs = os.path.join(work, "debs")
    os.makedirs(debs, exist_ok=True)
    for name in PACKAGES:
        root = os.path.join(work, name)
        if os.path.isdir(root):
            continue
        if not glob.glob(os.path.join(debs, f"{name}_*.deb")):
            subprocess.run(["apt-get", "download", name], cwd=debs, check=True)
        deb = glob.glob(os.path.join(debs, f"{name}_*.deb"))[0]
        subprocess.run(["dpkg", "-x", deb, root], check=True)
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        if version != PACKAGES[name]:
            print(f"note: {name} is {version}, assets/README.md credits {PACKAGES[name]}")


def extract_rcc(path: str, out: str) -> None:
    """Write out the files of a Qt resource bundle (.rcc, formats 1-3), as GCompris ships its data."""
    data = open(path, "rb").read()
    assert data[:4] == b"qres", path
    version, tree, blobs, names = struct.unpack(">IIII", data[4:20])
    node = 14 if version < 2 else 22

    def name(offset: int) -> str:
        length, = struct.unpack(">H", data[names + offset:names + offset + 2])
        return data[names + offset + 6:names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> None:
        at = tree + index * node
        name_offset, flags = struct.unpack(">IH", data[at:at + 6])
        here = prefix + (name(name_offset) if index else "")
        if flags & 2:  # a directory
            count, first = struct.unpack(">II", data[at + 6:at + 14])
            for child in range(count):
                walk(first + child, here + "/")
            return
        offset, = struct.unpack(">I", data[at + 10:at + 14])
        size, = struct.unpack(">I", data[blobs + offset:blobs + offset + 4])
        blob = data[blobs + offset + 4:blobs + offset + 4 + size]
        if flags & 4:
            raise ValueError(f"{path}: zstd-compressed entry {here}")
        if flags & 1:  # qCompress: 4-byte length, then zlib
            blob = zlib.decompress(blob[4:])
        target = os.path.join(out, here.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(blob)

    walk(0, "")


def fit(image: Image.Image, long_side: int) -> Image.Image:
    """`image` scaled (Lanczos) so that its longer side is `long_side`."""
    scale = long_side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)


def cutout(path: str, scale: float) -> Image.Image:
    """A transparent stamp scaled by `scale`, its alpha edge pulled in a pixel and softened
    (the stamps' edges carry a light fringe from the background they were cut from), trimmed
    to what it shows."""
    image = Image.open(path).convert("RGBA")
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    alpha = image.getchannel("A").filter(ImageFilter.MinFilter(3)).filter(ImageFilter.GaussianBlur(0.7))
    image.putalpha(alpha)
    if scale > 1.5:  # undo some of the upscaling's softness
        image = image.filter(ImageFilter.UnsharpMask(radius=1.5, percent=60, threshold=2))
    return image.crop(image.getchannel("A").point(lambda a: 255 if a > 24 else 0).getbbox())


def shadow(canvas: Image.Image, box: tuple[int, int, int, int], strength: int, blur: float) -> None:
    """Darken `canvas` under a soft ellipse in `box` (a contact shadow)."""
    mask = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(mask).ellipse(box, fill=strength)
    mask = mask.filter(ImageFilter.GaussianBlur(blur))
    canvas.paste(Image.new("RGB", canvas.size, (20, 16, 10)), (0, 0), mask)


def backdrop(size: tuple[int, int]) -> Image.Image:
    """A plain studio backdrop: warm light grey, a little darker towards the bottom."""
    width, height = size
    top, bottom = (236, 232, 224), (205, 198, 186)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return image


def place(canvas: Image.Image, stamp: Image.Image, centre_x: int, base_y: int, shade: int = 150,
          width: float = 0.42, depth: float = 0.1) -> None:
    """Stand `stamp` on the floor of `canvas`: its bottom at `base_y`, over a contact shadow
    `width` of its width to either side and `depth` of its height deep."""
    left, top = centre_x - stamp.width // 2, base_y - stamp.height
    half, deep = stamp.width * width, stamp.height * depth
    shadow(canvas, (round(centre_x - half), round(base_y - deep * 0.7), round(centre_x + half),
                    round(base_y + deep * 0.3)), shade, max(3.0, deep * 0.25))
    canvas.paste(stamp, (left, top), stamp)


def save(image: Image.Image, out: str, name: str) -> None:
    path = os.path.join(out, name)
    image.convert("RGB").save(path, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    print(f"{name}: {image.width}x{image.height}, {os.path.getsize(path) // 1024} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/synth-photo-sources")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "assets"))
    args = parser.parse_args()
    work, out = args.work, args.out
    unpack(work)
    gcompris = os.path.join(work, "gcompris-qt-data-rcc")
    if not os.path.isdir(gcompris):
        rcc = os.path.join(work, "gcompris-qt-data", "usr/share/gcompris-qt/rcc")
        for bundle in ("erase", "explore_farm_animals", "explore_world_animals"):
            extract_rcc(os.path.join(rcc, f"{bundle}.rcc"), gcompris)
    activities = os.path.join(gcompris, "gcompris/src/activities")
    plasma = os.path.join(work, "plasma-workspace-wallpapers", "usr/share/wallpapers")
    lomiri = os.path.join(work, "lomiri-wallpapers-16.04", "usr/share/backgrounds")
    stamps = os.path.join(work, "tuxpaint-stamps-default", "usr/share/tuxpaint/stamps")

    # horse2zebra. A Zaniskari horse in Ladakh (1920x1080): the left 4:3 of it, to 800x600.
    horse = Image.open(os.path.join(activities, "erase/resource/horse.webp")).convert("RGB")
    save(fit(horse.crop((0, 0, 1440, 1080)), 800), out, "horse.jpg")
    # Nokota horses in a pasture (1024x664): resized to 800 wide.
    herd = Image.open(os.path.join(activities, "explore_farm_animals/resource/animals/horse.webp"))
    save(fit(herd.convert("RGB"), 800), out, "horses.jpg")

    # zebra2horse. Tux Paint's zebra stamp (200x150) at 1.25x, standing in the savanna left of
    # the giraffes in GCompris' giraffe photo (1024x683; its left 450x450 holds no giraffe),
    # with a contact shadow; the whole scaled 1.2x to 540x540.
    savanna = Image.open(os.path.join(activities, "explore_world_animals/resource/animals/giraffe.webp"))
    scene = savanna.convert("RGB").crop((0, 233, 450, 683))
    zebra = cutout(os.path.join(stamps, "animals/mammals/equines/zebra.png"), 1.25)
    place(scene, zebra, 235, 430, shade=110, width=0.4, depth=0.12)
    save(scene.resize((540, 540), Image.LANCZOS), out, "zebra.jpg")

    # apple2orange. Five of Tux Paint's apple photos (46-50 px stamps, scaled 2.4-2.8x) on a
    # plain backdrop, 540x360.
    fruit = os.path.join(stamps, "food/fruit")
    table = backdrop((540, 360))
    for name, scale, x, base in (("apple_fuji", 2.4, 200, 222), ("apple_sierra_beauty", 2.4, 342, 224),
                                 ("apple_green", 2.7, 115, 318), ("apple_red", 2.8, 270, 326),
                                 ("apple_granny_smith", 2.7, 425, 318)):
        place(table, cutout(os.path.join(fruit, f"{name}.png"), scale), x, base)
    save(table, out, "apple.jpg")

    # orange2apple. Tux Paint's Seville orange (400x391, unscaled) on the same backdrop, 600x480.
    table = backdrop((600, 480))
    place(table, cutout(os.path.join(fruit, "orange_seville.png"), 1.0), 300, 446, shade=170,
          width=0.3, depth=0.06)
    save(table, out, "orange.jpg")
    # USDA's backlit citrus slices (1350x890): a 730x635 crop around the orange slices.
    citrus = Image.open(os.path.join(work, "palapeli-data", "usr/share/palapeli/collection/citrus-fruits.jpg"))
    save(citrus.convert("RGB").crop((540, 235, 1270, 870)), out, "citrus-slices.jpg")

    # monet and vangogh: landscapes, each resized to 800 on the long side (the busy stream
    # to 720, to stay under 150 KB), no crop.
    for name, path in (("landscape-lake.jpg", os.path.join(plasma, "EveningGlow/contents/images/2560x1600.jpg")),
                       ("landscape-forest.jpg", os.path.join(plasma, "Path/contents/images/2560x1600.jpg")),
                       ("landscape-mountains.jpg", os.path.join(lomiri, "aitzgorri_by_Aitzol_Berasategi.jpg")),
                       ("landscape-stream.jpg", os.path.join(lomiri, "life_by_Aitzol_Berasategi.jpg"))):
        save(fit(Image.open(path).convert("RGB"), 720 if "stream" in name else 800), out, name)


if __name__ == "__main__":
    main()
