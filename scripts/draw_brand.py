"""Draw the integration's brand images (sun over a solar panel, with a battery).

Run ``.venv/bin/python scripts/draw_brand.py`` to rewrite the PNGs in
``custom_components/solar_gateway/brand/``. Everything is drawn from geometry here,
four times larger than needed and scaled down, so the images are smooth and
reproducible with the locked Pillow.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components/solar_gateway/brand"
SUPERSAMPLE = 4
CANVAS = 1024  # the mark is drawn on a 1024 px square, then scaled

SUN = (249, 168, 37, 255)
PANEL = (30, 78, 140, 255)
PANEL_LINES = (120, 170, 225, 255)
FRAME = (18, 48, 92, 255)
BATTERY_BODY = (55, 65, 81, 255)
BATTERY_CHARGE = (67, 160, 71, 255)
TEXT_LIGHT = (30, 78, 140, 255)  # for light backgrounds
TEXT_DARK = (225, 235, 248, 255)  # for dark backgrounds


def _lerp(
    a: tuple[float, float], b: tuple[float, float], t: float
) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def draw_mark(size: int) -> Image.Image:
    """Return the square mark, ``size`` pixels wide, on a transparent background."""
    big = CANVAS * SUPERSAMPLE
    scale = SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def px(value: float) -> float:
        return value * scale

    # Sun, high and to the left, with rays around it.
    cx, cy, radius = px(400), px(330), px(170)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=SUN)
    for index in range(12):
        angle_deg = index * 30
        ray = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        ray_draw = ImageDraw.Draw(ray)
        ray_draw.rounded_rectangle(
            (cx + px(205), cy - px(22), cx + px(300), cy + px(22)),
            radius=px(22),
            fill=SUN,
        )
        image.alpha_composite(ray.rotate(angle_deg, center=(cx, cy)))

    # Solar panel in perspective, in front of the lower half of the sun.
    top_left, top_right = (px(250), px(520)), (px(830), px(520))
    bottom_right, bottom_left = (px(960), px(900)), (px(120), px(900))
    outline = px(24)
    draw.polygon(
        [top_left, top_right, bottom_right, bottom_left],
        fill=PANEL,
        outline=FRAME,
        width=int(outline),
    )
    cells_across, cells_down = 4, 3
    for column in range(1, cells_across):
        t = column / cells_across
        draw.line(
            [_lerp(top_left, top_right, t), _lerp(bottom_left, bottom_right, t)],
            fill=PANEL_LINES,
            width=int(px(12)),
        )
    for row in range(1, cells_down):
        t = row / cells_down
        draw.line(
            [_lerp(top_left, bottom_left, t), _lerp(top_right, bottom_right, t)],
            fill=PANEL_LINES,
            width=int(px(12)),
        )

    # Battery on the right, standing on the panel's corner.
    left, top, right, bottom = px(760), px(170), px(960), px(560)
    draw.rounded_rectangle(
        (px(820), top - px(40), px(900), top + px(10)), radius=px(12), fill=FRAME
    )
    draw.rounded_rectangle((left, top, right, bottom), radius=px(36), fill=BATTERY_BODY)
    inset = px(30)
    charge_top = top + (bottom - top) * 0.35
    draw.rounded_rectangle(
        (left + inset, charge_top, right - inset, bottom - inset),
        radius=px(18),
        fill=BATTERY_CHARGE,
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, text_color: tuple[int, int, int, int]) -> Image.Image:
    """Return the mark followed by the name, ``height`` pixels tall, landscape."""
    scale = SUPERSAMPLE
    big_height = height * scale
    mark = draw_mark(big_height)
    font = ImageFont.load_default(size=int(big_height * 0.34))
    text = "Solar Gateway"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    gap = big_height // 8
    width = big_height + gap + (right - left) + gap
    image = Image.new("RGBA", (width, big_height), (0, 0, 0, 0))
    image.alpha_composite(mark, (0, 0))
    text_y = (big_height - (bottom - top)) // 2 - top
    ImageDraw.Draw(image).text(
        (big_height + gap - left, text_y), text, font=font, fill=text_color
    )
    return image.resize((width // scale, height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand image."""
    BRAND.mkdir(parents=True, exist_ok=True)
    images = {
        "icon.png": draw_mark(256),
        "icon@2x.png": draw_mark(512),
        "logo.png": draw_logo(128, TEXT_LIGHT),
        "logo@2x.png": draw_logo(256, TEXT_LIGHT),
        "dark_logo.png": draw_logo(128, TEXT_DARK),
        "dark_logo@2x.png": draw_logo(256, TEXT_DARK),
    }
    for name, image in images.items():
        image.save(BRAND / name, optimize=True)
        print(f"{name}: {image.width}x{image.height}")


if __name__ == "__main__":
    main()
