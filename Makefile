# The two set-up commands of the README:
#   make demo   install, start the local lab, run the health-check scenario against it
#   make test   install, start the lab, run the whole test suite (pytest, molecule, ansible-test sanity, ansible-lint)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bootstrap lab lab-full pytest molecule sanity lint changelog build clean

bootstrap:
	@scripts/bootstrap.sh

lab: bootstrap
	$(BIN)/opsbook lab up

demo: lab
	$(BIN)/opsbook run health-check -i inventories/lab

# `make test` also starts the lab's Kubernetes and Docker (the first run builds the
# control plane from the Go module proxy: minutes); `make demo` stays fast without them.
lab-full: bootstrap
	$(BIN)/opsbook lab up --with kubernetes --with docker --with prometheus --with alertmanager --with tls

test: lab-full
	$(BIN)/pytest tests
	@$(MAKE) --no-print-directory molecule sanity lint

pytest: lab
	$(BIN)/pytest tests

molecule: lab
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test --all

sanity: bootstrap
	@scripts/galaxy_check.sh

lint: bootstrap
	cd $(CURDIR) && PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ansible-lint --offline --profile production
	@$(MAKE) --no-print-directory changelog

# Fragments valid, and CHANGELOG.rst is what changelogs/changelog.yaml renders (release: antsibull-changelog release).
changelog: bootstrap
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/antsibull-changelog lint
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/antsibull-changelog generate
	@! git rev-parse --git-dir >/dev/null 2>&1 || git diff --exit-code -- CHANGELOG.rst \
	  || { echo "CHANGELOG.rst is not what changelogs/changelog.yaml renders: commit antsibull-changelog generate's output" >&2; exit 1; }

build: bootstrap
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

clean:
	rm -rf dist tests/output .pytest_cache
