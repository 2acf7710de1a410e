"""Command groups of the CLI, one module each; registered in `awscost.cli.COMMANDS`."""
