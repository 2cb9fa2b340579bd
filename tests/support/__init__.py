"""The harness the tests and the benchmarks share: real peers on loopback, started and stopped.

nginx (`nginx.py`), Redis (`redis.py`), the OIDC provider (`oidc.py`), free ports
(`net.py`), process helpers (`processes.py`) and an in-process hexlit server
(`server.py`). One home for both: pytest (`python -m pytest`) and every benchmark
(`python -m bench.suite`, as the Makefile runs them) start from the repository root, where
`tests` and `bench` import as packages, so nothing edits `sys.path` to find this
(`tests/architecture/test_tooling_imports.py`).
"""
