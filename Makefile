# Thin wrappers over the npm scripts and the CLI; see README.md.
CLI := node bin/loopback-probes.js
POLICY_DIRS := $(patsubst %/policy.ts,%,$(wildcard policies/*/policy.ts))
SOURCES := $(shell find src policies -type f 2>/dev/null) package-lock.json

.PHONY: all build test demo clean

all: build

build: node_modules $(POLICY_DIRS:policies/%=dist/%.wasm)

dist/%.wasm: node_modules $(SOURCES)
	$(CLI) build policies/$* --out dist

node_modules: package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

test: node_modules
	npm test

demo: build
	$(CLI) audit --diff examples/ || test $$? -eq 1

clean:
	rm -rf dist .cache

# make publish REGISTRY=host[:port]/path [PUSH_FLAGS=--plain-http]
.PHONY: publish
publish: build
	@test -n "$(REGISTRY)" || { echo "usage: make publish REGISTRY=host[:port]/path [PUSH_FLAGS=--plain-http]" >&2; exit 2; }
	$(CLI) publish $(REGISTRY) $(PUSH_FLAGS)
