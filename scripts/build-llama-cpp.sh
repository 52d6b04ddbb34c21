#!/bin/sh
# Build and install llama-cpp-python for a portable x86-64 baseline (the one recipe used by
# `make install` and the Dockerfile). usage: build-llama-cpp.sh PYTHON WHEEL_DIR
#
# LLAMA_BUILD=portable (default): AVX2, FMA, F16C, BMI2; never AVX-512 or AMX, which some CPUs
#   advertise while their hypervisor traps them (SIGILL on the first generation).
# LLAMA_BUILD=native: -march=native, the last few percent, for machines that run it.
#
# The wheel is built without pip's cache (which keys wheels by the sdist, not by compile
# flags) into WHEEL_DIR/<flags hash>/, so a wheel built with other flags is never reused;
# the Makefile's WHEEL_DIR is a per-user cache, so a fresh clone reuses a wheel built with
# the same flags. The stamp in the venv (flags hash, backend digest) makes a re-run instant.
set -eu
python=$1
wheels=$2
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^llama_cpp_python==//p' "$here/constraints.txt")
case "${LLAMA_BUILD:-portable}" in
  portable)
    flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    flags="$flags -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
    flags="$flags -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    ;;
  native) flags="-DGGML_NATIVE=ON" ;;
  *) echo "LLAMA_BUILD must be portable or native, not '$LLAMA_BUILD'" >&2; exit 2 ;;
esac
tag=$(printf '%s %s' "$version" "$flags" | sha256sum | cut -c1-16)
stamp="$(dirname "$(dirname "$python")")/.llama-build"
# The installed CPU backend's digest: a later `pip install` that swapped it (say, for a wheel
# from pip's cache) no longer matches the stamp, and the build is installed again.
backend() {
  "$python" -c "import importlib.util as u, hashlib, pathlib
spec = u.find_spec('llama_cpp')
lib = pathlib.Path(spec.origin).parent / 'lib' / 'libggml-cpu.so' if spec else None
print(hashlib.sha256(lib.read_bytes()).hexdigest() if lib and lib.is_file() else 'none')"
}
if [ -f "$stamp" ] && [ "$(sed -n 1p "$stamp")" = "$tag" ] \
   && { [ -z "$(sed -n 2p "$stamp")" ] || [ "$(sed -n 2p "$stamp")" = "$(backend)" ]; } \
   && "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$version')" 2>/dev/null; then
  # this venv already holds this build; a stamp from before digests were kept gets one now
  [ -n "$(sed -n 2p "$stamp")" ] || printf '%s\n%s\n' "$tag" "$(backend)" > "$stamp"
  exit 0
fi
dir="$wheels/$tag"
if ! ls "$dir"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $version (${LLAMA_BUILD:-portable}; about 6 minutes on 2 cores)"
  mkdir -p "$dir"
  CMAKE_ARGS="$flags" FORCE_CMAKE=1 "$python" -m pip wheel --disable-pip-version-check -q \
    --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$dir" "llama-cpp-python==$version"
fi
"$python" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall --no-index \
  --no-cache-dir "$dir"/llama_cpp_python-"$version"-*.whl
printf '%s\n%s\n' "$tag" "$(backend)" > "$stamp"
