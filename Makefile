# Thin wrappers over the npm scripts and the CLI; see README.md.
CLI := node bin/loopback-probes.js
POLICY_DIRS := $(patsubst %/policy.ts,%,$(wildcard policies/*/policy.ts))
# What a module is built from (src/toolchain/module-cache.ts MODULE_INPUTS: the key of the
# module cache, .cache/modules/<hash>/, that make, npm test and npm pack share): the CLI,
# tests and docs outside these do not change a module. `build` takes the modules from
# that cache when a test run or a pack already built them from the same inputs.
MODULE_INPUTS := $(shell find src/analysis src/kubewarden policies $(addprefix src/toolchain/,build.ts glue.ts prelude.js tools.ts wasm-binary.ts metadata.ts floor-policy) -type f 2>/dev/null) package-lock.json
# npm writes node_modules/.package-lock.json on every install; the folder's own
# mtime changes whenever a tool (vitest, npx) writes a cache there, so it is never
# a prerequisite, and node_modules is only an order-only one for the modules.
DEPS := node_modules/.package-lock.json

.PHONY: all build test demo clean package publish sbom

all: build

build: $(POLICY_DIRS:policies/%=dist/%.wasm)

dist/%.wasm: $(MODULE_INPUTS) | $(DEPS)
	$(CLI) build policies/$* --out dist

$(DEPS): package-lock.json
	npm ci --no-audit --no-fund

test: | $(DEPS)
	npm test

demo: build
	$(CLI) audit --diff examples/ || test $$? -eq 1

# The npm package (CLI compiled to lib/ + the modules, from the module cache make build fills): loopback-probe-policies-<version>.tgz
package: build | $(DEPS)
	npm pack

clean:
	rm -rf dist lib .cache

# make publish REGISTRY=host[:port]/path [PUSH_FLAGS=--plain-http] [SIGN_KEY=cosign.key]
# (an encrypted key's passphrase comes from the COSIGN_PASSWORD environment variable)
publish: build
	@test -n "$(REGISTRY)" || { echo "usage: make publish REGISTRY=host[:port]/path [PUSH_FLAGS=--plain-http] [SIGN_KEY=cosign.key]" >&2; exit 2; }
	$(CLI) publish $(REGISTRY) $(PUSH_FLAGS) $(if $(SIGN_KEY),--sign-key $(SIGN_KEY))

# make sbom [SIGN_KEY=cosign.key]: dist/<name>-sbom.spdx.json (+ .sig), the release's SBOM assets
sbom: build
	$(CLI) sbom $(if $(SIGN_KEY),--sign-key $(SIGN_KEY))
