"""Helpers every app may use: units, number reading, formatting, downloads. Imports no app."""
