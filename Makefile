# The two commands a new user needs: `make run` and `make test`.
.PHONY: run test lint
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
