"""Registry benchmarks: de-duplication quality, registration throughput, lookup latency."""
