"""PDF pages as a reader sees them: rasterized with PDFium."""

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image


def rasterize(pdf_path: Path, scale: float = 2.0) -> list[Image.Image]:
    """Each page as an RGB image (scale 2 = 144 dpi)."""
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [page.render(scale=scale).to_pil().convert("RGB") for page in pdf]
    finally:
        pdf.close()


def ink_fraction(image: Image.Image) -> float:
    """The share of pixels that are not (near) white."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:240]) / (image.width * image.height)
