"""Submissions, their runs on hardware classes, and the results the runners send back."""
