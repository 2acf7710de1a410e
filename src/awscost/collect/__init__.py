"""Job A: usage collection. One module per resource kind, all registered in `awscost.collect.registry`;
`awscost.collect.runner.run_collection` fans out accounts x regions x kinds."""
