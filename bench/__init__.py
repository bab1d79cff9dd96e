"""Municipal scale: a generator for a large register, and the benchmark that measures it.

    python -m bench.generate --database-url URL [--scale 1.0]
    python -m bench.run [--database-url URL] [--json OUT] [--generate]

Not part of the product and not part of the test suite (only a tiny smoke test is).
"""
