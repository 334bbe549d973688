"""Pages that show what several apps know about one thing: the run (result) page, with the
run's figures and provenance (submissions) and its price (budgets). Above every domain app."""
