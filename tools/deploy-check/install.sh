#!/usr/bin/env bash
# Installs the tools test/deploy/ checks the deploy files with, from package registries only:
#
#   kubeconform  (Go module proxy)  validates the Kubernetes manifests against JSON schemas
#   kustomize    (Go module proxy)  renders deploy/kubernetes/*/ as `kubectl apply -k` would
#   deploy-lint  (Go module proxy)  tools/deploy-check/lint: BuildKit's Dockerfile parser and
#                                   linter, and compose-go's loader (what `docker compose config`
#                                   runs), since this machine has neither engine nor compose plugin
#   schemas      (PyPI)             the Kubernetes JSON schemas bundled in the kubernetes-validate
#                                   wheel; kubeconform cannot fetch them without internet
#
# into .cache/deploy-check/ (gitignored by `.cache/`). Idempotent: each tool is skipped when the
# pinned version is already there, so CI can call it on every run. systemd-analyze is the
# system's own (apt package systemd); this script only reports whether it is present.
#
# Needs: go >= 1.26 (kustomize v5.8.2 requires it) (on PATH or at /usr/local/go/bin/go), python3 with pip.
set -euo pipefail
cd "$(dirname "$0")/../.."

KUBECONFORM_VERSION=v0.8.0
KUSTOMIZE_VERSION=v5.8.2
KUBERNETES_VALIDATE_VERSION=1.37.0
# sha256 of kubernetes_validate-1.37.0-py3-none-any.whl: the wheel is data we trust, so pin it.
KUBERNETES_VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
# The Kubernetes versions the manifests are validated against: the oldest the manifests support
# (lifecycle.preStop.sleep is GA from 1.30) and the newest the wheel has. Keep in step with
# test/deploy/support.ts.
KUBERNETES_VERSIONS=(v1.30.0 v1.37.0)

prefix="$PWD/.cache/deploy-check"
mkdir -p "$prefix/bin"

# An older go (a distribution's package) fetches the toolchain the modules ask for from the Go
# module proxy; some distributions set GOTOOLCHAIN=local in their go.env, which this overrides.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
go_command=$(command -v go || true)
if [ -z "$go_command" ] && [ -x /usr/local/go/bin/go ]; then go_command=/usr/local/go/bin/go; fi

go_install() { # name module version
  local name="$1" module="$2" version="$3" stamp="$prefix/bin/.$1.version"
  if [ -x "$prefix/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    echo "$name $version: present"
    return
  fi
  if [ -z "$go_command" ]; then
    echo "install.sh: go is needed to build $name (https://go.dev/dl/, or /usr/local/go/bin/go)" >&2
    exit 1
  fi
  echo "$name $version: go install $module@$version"
  # The Go checksum database verifies the module; the version is stamped so `-v` prints it.
  GOBIN="$prefix/bin" GOFLAGS=-trimpath "$go_command" install \
    -ldflags "-s -w -X main.version=$version" "$module@$version"
  echo "$version" >"$stamp"
}

go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

# deploy-lint is built from this repository, its dependencies pinned by its go.sum: rebuilt when
# its sources change.
lint_sources=$(cat tools/deploy-check/lint/go.mod tools/deploy-check/lint/go.sum tools/deploy-check/lint/*.go | sha256sum | cut -d' ' -f1)
if [ -x "$prefix/bin/deploy-lint" ] && [ "$(cat "$prefix/bin/.deploy-lint.version" 2>/dev/null)" = "$lint_sources" ]; then
  echo "deploy-lint: present"
else
  if [ -z "$go_command" ]; then
    echo "install.sh: go is needed to build deploy-lint (https://go.dev/dl/, or /usr/local/go/bin/go)" >&2
    exit 1
  fi
  echo "deploy-lint: go build tools/deploy-check/lint"
  (cd tools/deploy-check/lint && "$go_command" build -trimpath -ldflags "-s -w" -o "$prefix/bin/deploy-lint" .)
  echo "$lint_sources" >"$prefix/bin/.deploy-lint.version"
fi

schemas="$prefix/schemas"
schemas_stamp="$schemas/.version"
wanted="$KUBERNETES_VALIDATE_VERSION ${KUBERNETES_VERSIONS[*]} localised-refs"
if [ "$(cat "$schemas_stamp" 2>/dev/null)" = "$wanted" ]; then
  echo "Kubernetes schemas ${KUBERNETES_VERSIONS[*]}: present"
else
  echo "Kubernetes schemas ${KUBERNETES_VERSIONS[*]}: from PyPI kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$download" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  wheel="$download/kubernetes_validate-$KUBERNETES_VALIDATE_VERSION-py3-none-any.whl"
  echo "$KUBERNETES_VALIDATE_SHA256  $wheel" | sha256sum --check --quiet
  rm -rf "$schemas"
  # Only the strict schemas (additionalProperties: false, so a misspelt key fails) of the chosen
  # versions. Their shared definitions are referred to by URL ($id https://kubernetes.io/api/…,
  # $ref /api/_definitions.json#…), which kubernetes-validate maps in memory; kubeconform would try
  # to fetch that URL, so the $ids are dropped and the $refs made relative to the file beside them.
  # Nothing else in the schemas changes.
  python3 - "$wheel" "$schemas" "${KUBERNETES_VERSIONS[@]}" <<'PY'
import json, pathlib, sys, zipfile
wheel, target, *versions = sys.argv[1:]
root = "kubernetes_validate/kubernetes-json-schema/"
SHARED = "/api/_definitions.json"

def localise(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SHARED):
            node["$ref"] = "_definitions.json" + ref[len(SHARED):]
        for value in node.values():
            localise(value)
    elif isinstance(node, list):
        for value in node:
            localise(value)

with zipfile.ZipFile(wheel) as archive:
    for version in versions:
        folder = f"{root}{version}-local-strict/"
        members = [name for name in archive.namelist() if name.startswith(folder) and name.endswith(".json")]
        if not members:
            sys.exit(f"install.sh: the wheel has no schemas for Kubernetes {version}")
        for name in members:
            schema = json.loads(archive.read(name))
            localise(schema)
            out = pathlib.Path(target, name[len(root):])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(schema))
PY
  echo "$wanted" >"$schemas_stamp"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze: $(systemd-analyze --version | head -1)"
else
  echo "systemd-analyze: missing; install the systemd package (apt-get install systemd)" >&2
  exit 1
fi
