"""Ranking of published results per benchmark and hardware class."""
