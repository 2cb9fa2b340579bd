"""Files: uploads, generated media and a download."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave

import streamlit as st
from PIL import Image

st.header("Files")


@st.cache_data
def generated_png(width: int = 64, height: int = 48) -> bytes:
    """A small RGB gradient, encoded as PNG in memory."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (x * 255 // (width - 1), y * 255 // (height - 1), 128)
            for y in range(height)
            for x in range(width)
        ]
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@st.cache_data
def generated_wav(frequency: float = 440.0, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit sine tone, encoded as WAV in memory."""
    frames = b"".join(
        struct.pack("<h", int(0.5 * 32767 * math.sin(2 * math.pi * frequency * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


DOWNLOAD_BYTES = b"hexlit" * 1000

st.subheader("Upload")
uploaded = st.file_uploader("Upload files", accept_multiple_files=True)
for f in uploaded or []:
    digest = hashlib.sha256(f.getvalue()).hexdigest()
    st.write(f"{f.name}: {f.size} bytes, sha256 {digest}")

st.subheader("Media")
st.image(generated_png(), caption="Generated PNG")
st.audio(generated_wav(), format="audio/wav")
# TODO: st.video once an mp4 fixture exists (e.g. made with Debian's ffmpeg:
# `ffmpeg -f lavfi -i testsrc=duration=1:size=160x120:rate=10 -pix_fmt yuv420p static/clip.mp4`).

st.subheader("Download")
st.download_button(
    "Download data", data=DOWNLOAD_BYTES, file_name="data.bin", mime="application/octet-stream"
)
