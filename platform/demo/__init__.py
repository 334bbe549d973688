"""The demo that `make run` seeds: the digits benchmark, the cpu-local class, the demo user,
the example submissions and the demo paper. May import any app; no app imports it."""
