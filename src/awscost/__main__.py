"""`python -m awscost` is the `awscost` command, exit status included (as the console script's
`sys.exit(main())`: click hands back a command's `ctx.exit(5)` as main's return value)."""

from awscost.entrypoints.cli import main

status = main()
raise SystemExit(status if isinstance(status, int) else 0)
