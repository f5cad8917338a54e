"""Output formats for `env` (dotenv, json), behind the same interface as the shell dialects."""
