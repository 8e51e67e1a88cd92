# The demo as a Hugging Face Docker Space (or any container host): the README's steps.
FROM python:3.11-slim

# ffmpeg: Gradio streams speech through it; libsndfile: soundfile writes WAVs with it;
# fonts-nanum: Korean labels in the speech figures.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libsndfile1 fonts-nanum \
 && rm -rf /var/lib/apt/lists/*

# Spaces run containers as uid 1000; the Hugging Face cache lives in its home.
RUN useradd --create-home --uid 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    HF_HOME=/home/user/.cache/huggingface \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    PYTHONUNBUFFERED=1
WORKDIR /home/user/app

# The package first (its dependencies are the slow layer), then the app and assets.
COPY --chown=user requirements.txt pyproject.toml README.md ./
COPY --chown=user synth ./synth
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=user . .

# Optional: bake models into the image so the Space starts without the Hub, e.g.
#   docker build --build-arg SYNTH_MODELS="ljspeech-en horse2zebra" .
ARG SYNTH_MODELS=""
RUN if [ -n "$SYNTH_MODELS" ]; then python -m synth download $SYNTH_MODELS; fi

EXPOSE 7860
CMD ["python", "app.py"]
