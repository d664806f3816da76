"""Benchmarks for the assistant's NLU (`python -m bench.nlu_bench`)."""
