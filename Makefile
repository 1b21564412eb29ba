# OP Digital — `make run` to try it, `make test` to check it.
# The venv is made from the system's Python (Debian's python3, as docs/deploy.md installs it)
# when it is 3.11 or newer and can make a venv: Debian builds it with PGO and LTO, and the count
# and the verifier run 1.2-1.4 times faster on it than on a plain source build (pyenv's
# default), measured on the CI machine (README, "Benchmarks"). Else the first python3 on PATH.
SYSTEM_PYTHON := $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; print(sys.version_info >= (3, 11))' 2>/dev/null)
PYTHON ?= $(if $(filter True,$(SYSTEM_PYTHON)),/usr/bin/python3,python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
TRANSLATIONS := opdigital/translations

.PHONY: install run mailsink test test-quick lint format translations bytecode messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations bytecode

# Byte-compile the package, as installing its wheel does: an editable install never is, and where
# PYTHONDONTWRITEBYTECODE is set (this machine) every command would compile it again on start
# (0.3 s). Only what changed is compiled again; an edited module is still read from its source.
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q opdigital migrations wsgi.py >/dev/null

# Compile the Portuguese and English catalogues (.po -> .mo); .mo files are not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d $(TRANSLATIONS) -D messages

# Refresh the catalogues after changing user-facing text.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

run: install
	mkdir -p instance
	OPDIGITAL_CONFIG=development $(BIN)/opdigital db upgrade
	OPDIGITAL_CONFIG=development $(BIN)/opdigital demo
	# The demo line's recorded prompts, when espeak-ng is installed (else the line speaks them).
	if command -v espeak-ng >/dev/null; then OPDIGITAL_CONFIG=development $(BIN)/opdigital phone prompts --slow --out instance/phone-audio; fi
	OPDIGITAL_CONFIG=development $(BIN)/opdigital run --host 127.0.0.1 --port $(PORT)

# A local SMTP server for development that prints every message it receives: run it beside
# `make run`, then `OPDIGITAL_CONFIG=development .venv/bin/opdigital mail send` delivers the
# outbox to it (the development settings send to localhost:8025).
mailsink: $(VENV)/.installed
	$(BIN)/python -m aiosmtpd -n -l localhost:8025 -c aiosmtpd.handlers.Debugging

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

# The quick part alone: no browser, fault or fuzz suites (CI runs `make test`, all of them).
test-quick: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not browser and not faults and not fuzz"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .import_linter_cache
