"""What every layer shares, standard library only: errors, settings, UTC hours, output formats, the registry
type, the OS / DB-engine vocabulary."""
