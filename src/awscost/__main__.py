"""`python -m awscost` is the `awscost` command."""

from awscost.entrypoints.cli import main

main()
