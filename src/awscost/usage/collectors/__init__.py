"""Job A: usage collection. One module per resource kind, all registered in `awscost.usage.collectors.registry`;
`awscost.usage.runner.run_collection` fans out accounts x regions x kinds."""
