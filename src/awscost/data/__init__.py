"""Package data: the dated price snapshot (prices-snapshot.json). Read with importlib.resources."""
