"""A CJK font embedded in the HTML report: a subset of Noto Sans CJK SC with only the characters the page uses.

The reader's machine may have no Chinese font (a fresh Linux install shows boxes), so the report carries
its own glyphs: fontTools cuts the installed Noto Sans CJK SC (Debian ``fonts-noto-cjk``, installed by
.ci/run; SIL Open Font License) down to the page's characters (a few hundred glyphs, about 100-200 kB)
and the page embeds it as a base64 WOFF ``@font-face``. When no such font is installed, the page names
the font family and the usual system CJK fonts instead, and says so.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

FAMILY = "HealthsimCJK"
FONT_STACK = (
    f"'{FAMILY}','Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
)
KNOWN_FILES = (  # (file, index in a collection: Noto's TTC holds JP, KR, SC, TC, HK in that order)
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
)


@lru_cache(maxsize=1)
def find_cjk_font() -> tuple[str, int] | None:
    """(file, index) of an installed Simplified-Chinese sans font, or None."""
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}|%{index}", "Noto Sans CJK SC:lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout
            file, _, index = out.partition("|")
            if "CJK" in file and Path(file).exists():
                return file, int(index or 0)
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    for file, index in KNOWN_FILES:
        if Path(file).exists():
            return file, index
    return None


def subset_woff(text: str, font: tuple[str, int]) -> bytes:
    """A WOFF font holding the glyphs of ``text`` (plus printable ASCII) cut from ``font``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    tt = TTFont(font[0], fontNumber=font[1], lazy=False)
    subsetter = subset.Subsetter(options)
    chars = {c for c in text if ord(c) >= 32} | {chr(c) for c in range(32, 127)}
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(tt)
    buf = io.BytesIO()
    tt.flavor = "woff"
    tt.save(buf)
    return buf.getvalue()


def font_face_css(text: str) -> tuple[str, bool]:
    """(CSS ``@font-face`` rule with the embedded subset, True) or ("", False) when no CJK font is installed."""
    font = find_cjk_font()
    if font is None:
        return "", False
    data = base64.b64encode(subset_woff(text, font)).decode("ascii")
    return (
        f"@font-face{{font-family:'{FAMILY}';src:url(data:font/woff;base64,{data}) format('woff');"
        "font-weight:100 900;font-style:normal}"
    ), True
