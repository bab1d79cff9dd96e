# The two commands: `make run` serves the app with the demo seed, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
# The suite runs on one worker per CPU (pytest-xdist), each test file on one worker;
# TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
FLASK = $(VENV)/bin/flask --app wsgi

.PHONY: run test bench install clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) seed
	@echo "Serving on http://127.0.0.1:$(PORT) (log in with a demo login above)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The benchmark at municipal scale (minutes); DATABASE_URL=postgresql://... adds PostgreSQL.
bench: install
	$(VENV)/bin/python -m bench.run --json bench/figures.json

clean:
	rm -rf $(VENV) instance
